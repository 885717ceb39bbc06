// cuRAND's XORWOW generator as cupy.random.default_rng uses it, on the CPU.
//
// CuPy keeps one curandStateXORWOW per GPU thread in an int8 device buffer
// (cupy/random/_bit_generator.pyx, _cuRANDGenerator._state), seeds thread
// `id` with curand_init(seed, id, 0) (subsequence id: 2^67 * id steps ahead),
// and draws element e of an n-element result in thread e % size, each thread
// walking its own elements in order (cupy/random/cupy_distributions.cu,
// execute_dist). This file does the same, one thread after another, on the
// same 48-byte state layout, so a copy of the buffer taken between two draws
// and written back continues the stream exactly. The recurrence, seeding and
// conversions follow cuRAND's documented XORWOW; bit-equality with a real GPU
// is not claimed.
#include <math.h>
#include <stdint.h>
#include <string.h>

struct curandStateXORWOW {
    unsigned int d, v[5];
    int boxmuller_flag;
    int boxmuller_flag_double;
    float boxmuller_extra;
    double boxmuller_extra_double;
};
static_assert(sizeof(curandStateXORWOW) == 48, "cuRAND's XORWOW state is 48 bytes");

static inline void step_v(unsigned int v[5]) {
    unsigned int t = v[0] ^ (v[0] >> 2);
    v[0] = v[1]; v[1] = v[2]; v[2] = v[3]; v[3] = v[4];
    v[4] = (v[4] ^ (v[4] << 4)) ^ (t ^ (t << 1));
}

static inline unsigned int curand(curandStateXORWOW* s) {
    step_v(s->v);
    s->d += 362437;
    return s->v[4] + s->d;
}

// One step of v is linear over GF(2): a 160x160 bit matrix, kept by columns.
struct Mat { unsigned int c[160][5]; };

static void matvec(const Mat& m, const unsigned int in[5], unsigned int out[5]) {
    unsigned int r[5] = {0, 0, 0, 0, 0};
    for (int j = 0; j < 160; ++j)
        if ((in[j >> 5] >> (j & 31)) & 1u)
            for (int k = 0; k < 5; ++k) r[k] ^= m.c[j][k];
    memcpy(out, r, sizeof r);
}

static void square(const Mat& a, Mat& out) {
    for (int j = 0; j < 160; ++j) matvec(a, a.c[j], out.c[j]);
}

// jump[k] = M^(2^(67 + k)): subsequence 2^k ahead. d needs no jump: it moves
// by 362437 per step, and 2^67 steps are a multiple of 2^32.
static Mat jump[40];
static bool jumps_ready = false;

static void prepare_jumps() {
    if (jumps_ready) return;
    static Mat m, t;
    for (int j = 0; j < 160; ++j) {
        unsigned int v[5] = {0, 0, 0, 0, 0};
        v[j >> 5] = 1u << (j & 31);
        step_v(v);
        memcpy(m.c[j], v, sizeof v);
    }
    for (int s = 0; s < 67; ++s) { square(m, t); m = t; }
    jump[0] = m;
    for (int k = 1; k < 40; ++k) square(jump[k - 1], jump[k]);
    jumps_ready = true;
}

extern "C" void standin_curand_init(curandStateXORWOW* st, long long size,
                                    unsigned long long seed) {
    prepare_jumps();
    // curand_init's scrambling of the seed (cuRAND's XORWOW)
    unsigned int s0 = ((unsigned int)seed) ^ 0xaad26b49u;
    unsigned int s1 = (unsigned int)(seed >> 32) ^ 0xf7dcefddu;
    unsigned int t0 = 1099087573u * s0;
    unsigned int t1 = 2591861531u * s1;
    curandStateXORWOW base;
    memset(&base, 0, sizeof base);
    base.d = 6615241u + t1 + t0;
    base.v[0] = 123456789u + t0;
    base.v[1] = 362436069u ^ t0;
    base.v[2] = 521288629u + t1;
    base.v[3] = 88675123u ^ t1;
    base.v[4] = 5783321u + t0;
    if (size > 0) st[0] = base;
    // thread id = parent + 2^k (k its lowest set bit): one jump from the parent
    for (long long id = 1; id < size; ++id) {
        long long parent = id & (id - 1);
        st[id] = st[parent];
        matvec(jump[__builtin_ctzll((unsigned long long)id)], st[parent].v, st[id].v);
    }
}

static const double TWO_POW_M53 = 1.1102230246251565e-16;  // 2^-53
static const float TWO_POW_M32 = 2.3283064e-10f;            // 2^-32
static const float TWO_POW_M32_2PI = 2.3283064e-10f * 6.2831855f;
static const double PI = 3.14159265358979323846;

static inline double uniform_double(curandStateXORWOW* s) {  // curand_uniform_double: (0, 1]
    unsigned int x = curand(s), y = curand(s);
    unsigned long long z = (unsigned long long)x ^ ((unsigned long long)y << (53 - 32));
    return z * TWO_POW_M53 + TWO_POW_M53 / 2.0;
}

static inline double rk_double(curandStateXORWOW* s) {  // CuPy maps 1.0 to 0.0: [0, 1)
    double r = uniform_double(s);
    return r >= 1.0 ? 0.0 : r;
}

static inline float rk_float(curandStateXORWOW* s) {
    float r = curand(s) * TWO_POW_M32 + TWO_POW_M32 / 2.0f;
    return r >= 1.0f ? 0.0f : r;
}

static inline double normal_double(curandStateXORWOW* s) {  // Box-Muller, the pair's 2nd kept
    if (s->boxmuller_flag_double != 1) {
        unsigned int x0 = curand(s), x1 = curand(s), y0 = curand(s), y1 = curand(s);
        unsigned long long zx = (unsigned long long)x0 ^ ((unsigned long long)x1 << 21);
        unsigned long long zy = (unsigned long long)y0 ^ ((unsigned long long)y1 << 21);
        double u = zx * TWO_POW_M53 + TWO_POW_M53 / 2.0;
        double v = zy * (TWO_POW_M53 * 2.0) + TWO_POW_M53;
        double r = sqrt(-2.0 * log(u));
        s->boxmuller_extra_double = cos(PI * v) * r;
        s->boxmuller_flag_double = 1;
        return sin(PI * v) * r;
    }
    s->boxmuller_flag_double = 0;
    return s->boxmuller_extra_double;
}

static inline float normal_float(curandStateXORWOW* s) {
    if (s->boxmuller_flag != 1) {
        unsigned int x = curand(s), y = curand(s);
        float u = x * TWO_POW_M32 + TWO_POW_M32 / 2.0f;
        float v = y * TWO_POW_M32_2PI + TWO_POW_M32_2PI / 2.0f;
        float r = sqrtf(-2.0f * logf(u));
        s->boxmuller_extra = cosf(v) * r;
        s->boxmuller_flag = 1;
        return sinf(v) * r;
    }
    s->boxmuller_flag = 0;
    return s->boxmuller_extra;
}

// execute_dist: thread id draws elements id, id + size, id + 2*size, ...
#define FOR_EACH_THREAD(...)                                           \
    for (long long id = 0; id < size; ++id) {                          \
        curandStateXORWOW s = st[id];                                  \
        for (long long e = id; e < n; e += size) { __VA_ARGS__; }        \
        st[id] = s;                                                    \
    }

extern "C" void standin_random_uniform(curandStateXORWOW* st, long long size, double* out,
                                       long long n) {
    FOR_EACH_THREAD(out[e] = rk_double(&s))
}

extern "C" void standin_random_uniform_float(curandStateXORWOW* st, long long size, float* out,
                                             long long n) {
    FOR_EACH_THREAD(out[e] = rk_float(&s))
}

extern "C" void standin_standard_normal(curandStateXORWOW* st, long long size, double* out,
                                        long long n) {
    FOR_EACH_THREAD(out[e] = normal_double(&s))
}

extern "C" void standin_standard_normal_float(curandStateXORWOW* st, long long size, float* out,
                                              long long n) {
    FOR_EACH_THREAD(out[e] = normal_float(&s))
}

extern "C" void standin_standard_exponential(curandStateXORWOW* st, long long size, double* out,
                                             long long n) {
    FOR_EACH_THREAD(out[e] = -log(1.0 - rk_double(&s)))
}

extern "C" void standin_interval_32(curandStateXORWOW* st, long long size, unsigned int* out,
                                    long long n, unsigned int mx, unsigned int mask) {
    FOR_EACH_THREAD(unsigned int v = curand(&s) & mask; while (v > mx) v = curand(&s) & mask;
                    out[e] = v)
}

extern "C" void standin_interval_64(curandStateXORWOW* st, long long size,
                                    unsigned long long* out, long long n,
                                    unsigned long long mx, unsigned long long mask) {
    FOR_EACH_THREAD(
        unsigned long long v;
        do {
            unsigned int hi = curand(&s), lo = curand(&s);
            v = (((unsigned long long)hi << 32) | lo) & mask;
        } while (v > mx);
        out[e] = v)
}

extern "C" void standin_raw(curandStateXORWOW* st, long long size, int* out, long long n) {
    FOR_EACH_THREAD(out[e] = (int)curand(&s))
}
