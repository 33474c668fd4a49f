/*
 * genlab's own float32 GEMM, for machines without OpenBLAS: row-major C[m×n] = op(A)[m×k] · op(B)[k×n] + beta·C.
 *
 * The usual structure of a packed GEMM (Goto's; BLIS's five loops): a KC × NC panel of op(B) is packed into
 * NR-wide slivers, an MC × KC block of op(A) into MR-tall slivers, and a micro-kernel keeps an MR × NR tile of
 * C in vector registers while it walks the shared KC dimension. Packing pads the slivers with zeros, so the
 * kernel always runs full tiles; a tile at the matrix's edge is computed into a small buffer and only its
 * valid part is added to C.
 *
 * The vector width and tile shape follow the ISA the file is compiled for (npm install builds it with
 * -march=native, for the CPU it runs on): AVX-512 (12 × 32 tile, FMA), AVX2 + FMA (6 × 16, FMA), otherwise
 * GCC/Clang vector extensions of 128 bits (4 × 8, separate multiply and add: the file is compiled with
 * -ffp-contract=off, so the compiler fuses nothing behind the code's back).
 *
 * Rounding, and why it does not depend on the blocking or the thread count: each C element is computed as
 * ((C·beta or 0) + s₁) + s₂ + …, where s_b is the sum of the products of K-block b (KC terms, accumulated in
 * order p = 0, 1, … by one fused multiply-add each, starting from 0). The K blocks are the same for every
 * element and every tile position, so the bits of an element depend only on (m, n, k)'s K blocking, never
 * on where the element sits in a tile, on the M and N blocking, or on which thread computed it.
 *
 * beta = 0 never reads C (BLAS semantics: a NaN left in the output buffer does not propagate).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__AVX512F__)
#include <immintrin.h>
typedef __m512 vf;
#define VL 16
#ifndef MR
#define MR 12
#define NR 32
#endif
#define ISA "avx512"
#define VLOAD(p) _mm512_loadu_ps(p)
#define VSTORE(p, v) _mm512_storeu_ps((p), (v))
#define VSET1(x) _mm512_set1_ps(x)
#define VZERO() _mm512_setzero_ps()
#define VFMA(a, b, c) _mm512_fmadd_ps((a), (b), (c))
#define VADD(a, b) _mm512_add_ps((a), (b))
#define VMUL(a, b) _mm512_mul_ps((a), (b))
static inline __mmask16 lanes_(int64_t n) { return n >= 16 ? (__mmask16)0xFFFF : n <= 0 ? (__mmask16)0 : (__mmask16)((1u << n) - 1); }
#define VMLOAD(p, n) _mm512_maskz_loadu_ps(lanes_(n), (p)) /* the first n lanes; masked-off lanes never fault */
#define VMSTORE(p, v, n) _mm512_mask_storeu_ps((p), lanes_(n), (v))
#elif defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
typedef __m256 vf;
#define VL 8
#define MR 6
#define NR 16
#define ISA "avx2"
#define VLOAD(p) _mm256_loadu_ps(p)
#define VSTORE(p, v) _mm256_storeu_ps((p), (v))
#define VSET1(x) _mm256_set1_ps(x)
#define VZERO() _mm256_setzero_ps()
#define VFMA(a, b, c) _mm256_fmadd_ps((a), (b), (c))
#define VADD(a, b) _mm256_add_ps((a), (b))
#define VMUL(a, b) _mm256_mul_ps((a), (b))
static inline __m256i lanes_(int64_t n) { return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(n < 0 ? 0 : n > 8 ? 8 : n)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)); }
#define VMLOAD(p, n) _mm256_maskload_ps((p), lanes_(n))
#define VMSTORE(p, v, n) _mm256_maskstore_ps((p), lanes_(n), (v))
#else
typedef float vf __attribute__((vector_size(16)));
#define VL 4
#define MR 4
#define NR 8
#define ISA "vec128"
static inline vf vload_(const float *p) {
  vf v;
  memcpy(&v, p, sizeof v);
  return v;
}
#define VLOAD(p) vload_(p)
#define VSTORE(p, v) \
  do {               \
    vf v_ = (v);     \
    memcpy((p), &v_, sizeof v_); \
  } while (0)
#define VSET1(x) ((vf){(x), (x), (x), (x)})
#define VZERO() ((vf){0, 0, 0, 0})
#define VFMA(a, b, c) ((a) * (b) + (c)) /* two roundings: -ffp-contract=off */
#define VADD(a, b) ((a) + (b))
#define VMUL(a, b) ((a) * (b))
static inline vf vmload_(const float *p, int64_t n) {
  vf v = VZERO();
  for (int64_t i = 0; i < n && i < VL; i++) v[i] = p[i];
  return v;
}
static inline void vmstore_(float *p, vf v, int64_t n) {
  for (int64_t i = 0; i < n && i < VL; i++) p[i] = v[i];
}
#define VMLOAD(p, n) vmload_((p), (n))
#define VMSTORE(p, v, n) vmstore_((p), (v), (n))
#endif

#define NV (NR / VL)     /* vectors per tile row (NR: the tile width) */
#define KC 384           /* K block: an NR-wide B sliver (KC·NR floats) stays in L1 */
#define MC (MR * 16)     /* M block: the packed A block (MC·KC floats) stays in L2 */
#define NC 3072          /* N block: the packed B panel (KC·NC floats) stays in L3 */
#ifndef GENLAB_DIRECT_B
#define GENLAB_DIRECT_B (64.0 * 1024) /* k·n up to which a row-major B is read in place */
#endif

#define STR_(x) #x
#define STR(x) STR_(x)
const char *genlab_gemm_describe(void) { return "genlab-gemm " ISA " " STR(MR) "x" STR(NR); }

/*
 * The micro-kernel: the C tile of `mr` ≤ MR rows and `nr` ≤ nv·VL columns at c (leading dimension ldc)
 * ← mode 0: acc, 1: c + acc, 2: c·beta + acc, where acc[i, j] = Σ_p a[i·ais + p·aps] · b[p·bps + j] over
 * p < kc, each product added by one FMA in order of p. A is read packed (ais = 1, aps = MR) or in place (a
 * row-major op(A): ais = lda, aps = 1; a transposed one: ais = 1, aps = lda), always MR rows (the caller
 * pads the rows past mr: packing does); B packed (bps = NR) or in place (bps = ldb), reading only the
 * first nr columns. Columns past nr and rows past mr are never stored. nv (1 or 2 vectors a row) and the
 * strides are constants where it is inlined.
 */
static inline __attribute__((always_inline)) void kernel(int nv, int64_t kc, const float *restrict a, int64_t ais, int64_t aps, const float *restrict b, int64_t bps, float *restrict c, int64_t ldc, int mode, float beta, int64_t mr, int64_t nr) {
  vf acc[MR][NV];
#pragma GCC unroll 16
  for (int i = 0; i < MR; i++)
#pragma GCC unroll 4
    for (int v = 0; v < nv; v++) acc[i][v] = VZERO();
  if (nr == nv * VL) {
    for (int64_t p = 0; p < kc; p++) {
      vf bv[NV];
#pragma GCC unroll 4
      for (int v = 0; v < nv; v++) bv[v] = VLOAD(b + p * bps + v * VL);
#pragma GCC unroll 16
      for (int i = 0; i < MR; i++) {
        vf ai = VSET1(a[i * ais + p * aps]);
#pragma GCC unroll 4
        for (int v = 0; v < nv; v++) acc[i][v] = VFMA(ai, bv[v], acc[i][v]);
      }
    }
  } else {
    for (int64_t p = 0; p < kc; p++) {
      vf bv[NV];
#pragma GCC unroll 4
      for (int v = 0; v < nv; v++) bv[v] = VMLOAD(b + p * bps + v * VL, nr - v * VL);
#pragma GCC unroll 16
      for (int i = 0; i < MR; i++) {
        vf ai = VSET1(a[i * ais + p * aps]);
#pragma GCC unroll 4
        for (int v = 0; v < nv; v++) acc[i][v] = VFMA(ai, bv[v], acc[i][v]);
      }
    }
  }
  vf vb = VSET1(beta);
#pragma GCC unroll 16
  for (int i = 0; i < MR; i++) {
    if (i >= mr) break;
#pragma GCC unroll 4
    for (int v = 0; v < nv; v++) {
      float *cp = c + i * ldc + v * VL;
      int64_t n = nr - v * VL;
      if (n >= VL) {
        if (mode == 0) VSTORE(cp, acc[i][v]);
        else if (mode == 1) VSTORE(cp, VADD(VLOAD(cp), acc[i][v]));
        else VSTORE(cp, VADD(VMUL(VLOAD(cp), vb), acc[i][v]));
      } else if (n > 0) {
        if (mode == 0) VMSTORE(cp, acc[i][v], n);
        else if (mode == 1) VMSTORE(cp, VADD(VMLOAD(cp, n), acc[i][v]), n);
        else VMSTORE(cp, VADD(VMUL(VMLOAD(cp, n), vb), acc[i][v]), n);
      }
    }
  }
}

/* op(A)[i0 + i, p0 + p] for i < mc, p < kc into MR-tall slivers: out[s·MR·kc + p·MR + i], rows past mc zero. */
static void packA(int tA, const float *A, int64_t lda, int64_t i0, int64_t mc, int64_t p0, int64_t kc, float *restrict out) {
  for (int64_t s = 0; s < mc; s += MR) {
    float *o = out + s * kc;
    int64_t rows = mc - s < MR ? mc - s : MR;
    if (rows < MR) memset(o, 0, sizeof(float) * MR * kc);
    if (tA) /* op(A)[i, p] = A[p·lda + i]: row p of A is contiguous in i */
      for (int64_t p = 0; p < kc; p++) {
        const float *src = A + (p0 + p) * lda + i0 + s;
        for (int64_t i = 0; i < rows; i++) o[p * MR + i] = src[i];
      }
    else
      for (int64_t i = 0; i < rows; i++) {
        const float *src = A + (i0 + s + i) * lda + p0;
        for (int64_t p = 0; p < kc; p++) o[p * MR + i] = src[p];
      }
  }
}

/* op(B)[p0 + p, j0 + j] for p < kc, j < nc into NR-wide slivers: out[s·NR·kc + p·NR + j], columns past nc zero. */
static void packB(int tB, const float *B, int64_t ldb, int64_t p0, int64_t kc, int64_t j0, int64_t nc, float *restrict out) {
  for (int64_t s = 0; s < nc; s += NR) {
    float *o = out + s * kc;
    int64_t cols = nc - s < NR ? nc - s : NR;
    if (cols < NR) memset(o, 0, sizeof(float) * NR * kc);
    if (tB) /* op(B)[p, j] = B[j·ldb + p] */
      for (int64_t j = 0; j < cols; j++) {
        const float *src = B + (j0 + s + j) * ldb + p0;
        for (int64_t p = 0; p < kc; p++) o[p * NR + j] = src[p];
      }
    else
      for (int64_t p = 0; p < kc; p++) memcpy(o + p * NR, B + (p0 + p) * ldb + j0 + s, sizeof(float) * cols);
  }
}

static float *bufA, *bufB;

/* One MR-row slab × the NR-wide slivers of a block: A packed (ap: its sliver, ais 1, aps MR) or in place. */
static void slab(int64_t kc, const float *a, int64_t ais, int64_t aps, const float *b, int64_t bps, int64_t bstep, float *c, int64_t ldc, int mode, float beta, int64_t mr, int64_t nc) {
/* the kernel with w vectors a row on the nr columns at jr, its A strides constant where it is inlined */
#define CALL(w, nr)                                                                                                          \
  do {                                                                                                                       \
    const float *bj = b + (jr / NR) * bstep;                                                                                 \
    if (ais == 1 && aps == MR) kernel(w, kc, a, 1, MR, bj, bps, c + jr, ldc, mode, beta, mr, nr);                           \
    else if (aps == 1) kernel(w, kc, a, ais, 1, bj, bps, c + jr, ldc, mode, beta, mr, nr);                                 \
    else kernel(w, kc, a, 1, aps, bj, bps, c + jr, ldc, mode, beta, mr, nr);                                               \
  } while (0)
  int64_t jr = 0;
  for (; jr + NR <= nc; jr += NR) CALL(NV, NR);
  if (jr < nc) { /* the last columns: as few vectors a row as they fit in */
    int64_t nr = nc - jr;
    switch ((nr + VL - 1) / VL) {
      case 1: CALL(1, nr); break;
#if NV > 1
      case 2: CALL(2, nr); break;
#endif
#if NV > 2
      case 3: CALL(3, nr); break;
#endif
#if NV > 3
      case 4: CALL(4, nr); break;
#endif
    }
  }
#undef CALL
}

/* Returns 0, or −1 when the packing buffers cannot be allocated (C untouched). */
int genlab_sgemm(int tA, int tB, int64_t m, int64_t n, int64_t k, const float *A, int64_t lda, const float *B, int64_t ldb, float beta, float *C, int64_t ldc) {
  if (m <= 0 || n <= 0) return 0;
  if (!bufA) bufA = aligned_alloc(64, sizeof(float) * MC * KC);
  if (!bufB) bufB = aligned_alloc(64, sizeof(float) * KC * NC);
  if (!bufA || !bufB) return -1;
  if (k <= 0) { /* C = beta·C: no products */
    for (int64_t i = 0; i < m; i++)
      for (int64_t j = 0; j < n; j++) C[i * ldc + j] = beta == 0.0f ? 0.0f : beta == 1.0f ? C[i * ldc + j] : C[i * ldc + j] * beta;
    return 0;
  }
  /* A is packed when its slivers are reused (more than one NR-wide column sliver: measured faster from n = 64
     on), else read in place; B is packed when it is transposed or large, else read in place. */
  int packedB = tB || (double)k * (double)n > GENLAB_DIRECT_B;
  int packedA = n > NR;
  for (int64_t jc = 0; jc < n; jc += NC) {
    int64_t nc = n - jc < NC ? n - jc : NC;
    for (int64_t pc = 0; pc < k; pc += KC) {
      int64_t kc = k - pc < KC ? k - pc : KC;
      int mode = pc > 0 ? 1 : beta == 0.0f ? 0 : beta == 1.0f ? 1 : 2;
      const float *b;
      int64_t bps, bstep;
      if (packedB) {
        packB(tB, B, ldb, pc, kc, jc, nc, bufB);
        b = bufB, bps = NR, bstep = NR * kc;
      } else
        b = B + pc * ldb + jc, bps = ldb, bstep = NR;
      for (int64_t ic = 0; ic < m; ic += MC) {
        int64_t mc = m - ic < MC ? m - ic : MC;
        if (packedA) packA(tA, A, lda, ic, mc, pc, kc, bufA);
        for (int64_t ir = 0; ir < mc; ir += MR) {
          int64_t mr = mc - ir < MR ? mc - ir : MR;
          float *c = C + (ic + ir) * ldc + jc;
          if (packedA) slab(kc, bufA + ir * kc, 1, MR, b, bps, bstep, c, ldc, mode, beta, mr, nc);
          else if (mr < MR) { /* the last rows, packed and padded with zeros */
            packA(tA, A, lda, ic + ir, mr, pc, kc, bufA);
            slab(kc, bufA, 1, MR, b, bps, bstep, c, ldc, mode, beta, mr, nc);
          } else if (tA) slab(kc, A + pc * lda + ic + ir, 1, lda, b, bps, bstep, c, ldc, mode, beta, MR, nc);
          else slab(kc, A + (ic + ir) * lda + pc, lda, 1, b, bps, bstep, c, ldc, mode, beta, MR, nc);
        }
      }
    }
  }
  return 0;
}
