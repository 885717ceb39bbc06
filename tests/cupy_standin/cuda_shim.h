// The CUDA built-ins a CuPy ElementwiseKernel uses, for g++ on the CPU.
//
// CuPy compiles an ElementwiseKernel's body inside a loop over i (CUPY_FOR)
// with its parameters as CArray / CIndexer objects (cupy/_core/include/cupy/
// carray.cuh). This header gives the same names and member functions, with
// one difference: every element access is bounds-checked, and an access
// outside an array throws standin_out_of_bounds, which the launcher reports
// back to Python (kernel, argument, index, size). One thread runs the whole
// loop: blockIdx = threadIdx = 0, blockDim = gridDim = 1. __syncthreads is
// deliberately missing (it cannot mean anything here): a kernel that needs it
// does not compile.
#pragma once
#include <assert.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define __device__
#define __host__
#define __global__
#define __forceinline__ inline
#define __noinline__
#define __shared__ static

struct standin_dim3 { unsigned int x, y, z; };
static const standin_dim3 threadIdx = {0, 0, 0}, blockIdx = {0, 0, 0};
static const standin_dim3 blockDim = {1, 1, 1}, gridDim = {1, 1, 1};

// carray.cuh's loop, unchanged: with the values above, i = 0, 1, ..., n-1.
#define CUPY_FOR(i, n) \
    for (ptrdiff_t i = \
            static_cast<ptrdiff_t>(blockIdx.x) * blockDim.x + threadIdx.x; \
         i < (n); \
         i += static_cast<ptrdiff_t>(blockDim.x) * gridDim.x)

// ------------------------------------------------------------ intrinsics ---
__device__ inline float __int_as_float(int x) { float f; memcpy(&f, &x, 4); return f; }
__device__ inline int __float_as_int(float x) { int i; memcpy(&i, &x, 4); return i; }
__device__ inline float __uint_as_float(unsigned int x) { float f; memcpy(&f, &x, 4); return f; }
__device__ inline unsigned int __float_as_uint(float x) { unsigned int i; memcpy(&i, &x, 4); return i; }
__device__ inline double __longlong_as_double(long long x) { double d; memcpy(&d, &x, 8); return d; }
__device__ inline long long __double_as_longlong(double x) { long long l; memcpy(&l, &x, 8); return l; }
__device__ inline int __popc(unsigned int x) { return __builtin_popcount(x); }
__device__ inline int __popcll(unsigned long long x) { return __builtin_popcountll(x); }
__device__ inline int __clz(int x) { return x ? __builtin_clz((unsigned int)x) : 32; }
__device__ inline int __ffs(int x) { return __builtin_ffs(x); }
template <typename T> __device__ inline T __ldg(const T* p) { return *p; }
__device__ inline float __expf(float x) { return expf(x); }
__device__ inline float __logf(float x) { return logf(x); }
__device__ inline float __fdividef(float x, float y) { return x / y; }
__device__ inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }
__device__ inline double rsqrt(double x) { return 1.0 / sqrt(x); }

#define STANDIN_MINMAX(T) \
    __device__ inline T min(T a, T b) { return a < b ? a : b; } \
    __device__ inline T max(T a, T b) { return a > b ? a : b; }
STANDIN_MINMAX(int)
STANDIN_MINMAX(unsigned int)
STANDIN_MINMAX(long long)
STANDIN_MINMAX(unsigned long long)
#undef STANDIN_MINMAX
__device__ inline float min(float a, float b) { return fminf(a, b); }
__device__ inline float max(float a, float b) { return fmaxf(a, b); }
__device__ inline double min(double a, double b) { return fmin(a, b); }
__device__ inline double max(double a, double b) { return fmax(a, b); }

// One thread at a time: the atomics are plain read-modify-writes.
template <typename T> __device__ inline T atomicAdd(T* p, T v) { T o = *p; *p = o + v; return o; }
template <typename T> __device__ inline T atomicSub(T* p, T v) { T o = *p; *p = o - v; return o; }
template <typename T> __device__ inline T atomicExch(T* p, T v) { T o = *p; *p = v; return o; }
template <typename T> __device__ inline T atomicMax(T* p, T v) { T o = *p; if (v > o) *p = v; return o; }
template <typename T> __device__ inline T atomicMin(T* p, T v) { T o = *p; if (v < o) *p = v; return o; }
template <typename T> __device__ inline T atomicCAS(T* p, T cmp, T v) {
    T o = *p; if (o == cmp) *p = v; return o;
}

// ------------------------------------------------- arrays, bounds-checked ---
#define STANDIN_MAX_NDIM 16

// What Python passes for each array argument and for the indexer.
struct standin_desc {
    void* data;
    long long size;
    long long ndim;
    const char* name;
    long long shape[STANDIN_MAX_NDIM];
    long long strides[STANDIN_MAX_NDIM];  // bytes
};

struct standin_out_of_bounds {
    const char* name;
    long long index;   // the flat index, or the index along `dim`
    long long size;    // the size, or the extent of `dim`
    long long dim;     // -1 for a flat index
};

template <typename T, int _ndim, bool _c_contiguous = false, bool _use_32bit_indexing = false>
class CArray {
public:
    static const int ndim = _ndim;
    static const bool c_contiguous = _c_contiguous;
    typedef ptrdiff_t index_t;

private:
    T* data_;
    ptrdiff_t size_;
    ptrdiff_t shape_[ndim];
    ptrdiff_t strides_[ndim];
    const char* name_;

public:
    explicit CArray(const standin_desc& d)
        : data_(static_cast<T*>(d.data)), size_(d.size), name_(d.name) {
        for (int k = 0; k < ndim; ++k) {
            shape_[k] = d.shape[k];
            strides_[k] = d.strides[k];
        }
    }

    __device__ ptrdiff_t size() const { return size_; }
    __device__ const ptrdiff_t* shape() const { return shape_; }
    __device__ const ptrdiff_t* strides() const { return strides_; }
    __device__ T* data() const { return data_; }

    template <typename Int>
    __device__ T& operator[](const Int (&idx)[ndim]) {
        return const_cast<T&>(const_cast<const CArray&>(*this)[idx]);
    }

    template <typename Int>
    __device__ const T& operator[](const Int (&idx)[ndim]) const {
        ptrdiff_t diff = 0;
        for (int dim = 0; dim < ndim; ++dim) {
            if (idx[dim] < 0 || idx[dim] >= shape_[dim])
                throw standin_out_of_bounds{name_, (long long)idx[dim], (long long)shape_[dim], dim};
            diff += strides_[dim] * static_cast<ptrdiff_t>(idx[dim]);
        }
        return *reinterpret_cast<const T*>(reinterpret_cast<const char*>(data_) + diff);
    }

    __device__ T& operator[](ptrdiff_t i) {
        return const_cast<T&>(const_cast<const CArray&>(*this)[i]);
    }

    __device__ const T& operator[](ptrdiff_t idx) const {
        if (idx < 0 || idx >= size_)
            throw standin_out_of_bounds{name_, (long long)idx, (long long)size_, -1};
        if (c_contiguous) return data_[idx];
        ptrdiff_t diff = 0, i = idx;
        for (int dim = ndim; --dim > 0;) {
            diff += strides_[dim] * (i % shape_[dim]);
            i /= shape_[dim];
        }
        diff += strides_[0] * i;
        return *reinterpret_cast<const T*>(reinterpret_cast<const char*>(data_) + diff);
    }
};

template <typename T, bool _c_contiguous, bool _use_32bit_indexing>
class CArray<T, 0, _c_contiguous, _use_32bit_indexing> {
private:
    T* data_;
    const char* name_;

public:
    static const int ndim = 0;
    explicit CArray(const standin_desc& d) : data_(static_cast<T*>(d.data)), name_(d.name) {}
    __device__ ptrdiff_t size() const { return 1; }
    __device__ T* data() const { return data_; }
    template <typename U> __device__ T& operator[](const U&) { return *data_; }
    template <typename U> __device__ const T& operator[](const U&) const { return *data_; }
};

template <int _ndim, bool _use_32bit_indexing = false>
class CIndexer {
public:
    static const int ndim = _ndim;
    typedef ptrdiff_t index_t[ndim];

private:
    ptrdiff_t size_;
    ptrdiff_t shape_[ndim];
    ptrdiff_t index_[ndim];

public:
    explicit CIndexer(const standin_desc& d) : size_(1) {
        for (int k = 0; k < ndim; ++k) {
            shape_[k] = d.shape[k];
            size_ *= d.shape[k];
            index_[k] = 0;
        }
    }
    __device__ ptrdiff_t size() const { return size_; }
    __device__ const index_t& get() const { return index_; }
    __device__ void set(ptrdiff_t i) {
        for (int dim = ndim; --dim > 0;) {
            index_[dim] = i % shape_[dim];
            i /= shape_[dim];
        }
        index_[0] = i;
    }
};

template <bool _use_32bit_indexing>
class CIndexer<0, _use_32bit_indexing> {
public:
    static const int ndim = 0;
    explicit CIndexer(const standin_desc&) {}
    __device__ ptrdiff_t size() const { return 1; }
    __device__ void set(ptrdiff_t) {}
    __device__ const ptrdiff_t* get() const { return NULL; }
};

// What the launcher hands back when an access was out of bounds.
struct standin_error {
    char name[128];
    long long index, size, dim;
};

inline void standin_report(const standin_out_of_bounds& e, standin_error* err) {
    snprintf(err->name, sizeof err->name, "%s", e.name ? e.name : "?");
    err->index = e.index;
    err->size = e.size;
    err->dim = e.dim;
}
