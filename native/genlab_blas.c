/*
 * genlab's native matmul: an N-API function over a float32 GEMM — OpenBLAS's cblas_sgemm where the addon was
 * built with OpenBLAS (GENLAB_OPENBLAS), genlab's own packed GEMM (genlab_gemm.c) otherwise or when
 * setGemm("own") chose it — computing in place on the
 * memory of jax-js's Wasm backend (a typed array over the WebAssembly.Memory buffer, shared or not), so
 * nothing is copied. Row-major C[m×n] = op(A)[m×k] · op(B)[k×n] + beta·C, with the operands given as
 * (typed array, byte offset, leading dimension, transposed?). Every offset and extent is checked against
 * the arrays' lengths before OpenBLAS is called; a bad call throws a RangeError, never touches memory.
 */
#include <node_api.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#ifdef GENLAB_OPENBLAS
#include <cblas.h>
extern void openblas_set_num_threads(int);
extern int openblas_get_num_threads(void);
extern char *openblas_get_config(void);
static int own = 0; /* 1: genlab's own GEMM (setGemm("own")) */
#else
static const int own = 1;
#endif
int genlab_sgemm(int tA, int tB, int64_t m, int64_t n, int64_t k, const float *A, int64_t lda, const float *B, int64_t ldb, float beta, float *C, int64_t ldc);
const char *genlab_gemm_describe(void);

#define CHECK(call)                                                   \
  if ((call) != napi_ok) {                                            \
    napi_throw_error(env, NULL, "genlab_blas: N-API call failed");   \
    return NULL;                                                      \
  }

static int view(napi_env env, napi_value v, char **data, size_t *bytes) {
  napi_typedarray_type type;
  size_t length, offset;
  napi_value ab;
  void *base;
  if (napi_get_typedarray_info(env, v, &type, &length, &base, &ab, &offset) != napi_ok) return 0;
  size_t elem = type == napi_float32_array ? 4 : type == napi_uint8_array ? 1 : 0;
  if (!elem) return 0;
  *data = (char *)base;
  *bytes = length * elem;
  return 1;
}

static int64_t num(napi_env env, napi_value v) {
  int64_t x = -1;
  napi_get_value_int64(env, v, &x);
  return x;
}

/* Extent in bytes of a row-major operand with `rows` × `cols` (after op) and leading dimension ld. */
static int fits(int64_t off, int64_t r, int64_t c, int64_t ld, int trans, size_t bytes) {
  int64_t R = trans ? c : r, C = trans ? r : c;
  if (off < 0 || r <= 0 || c <= 0 || ld < C || (off & 3)) return 0;
  int64_t last = off + 4 * ((R - 1) * ld + C);
  return last <= (int64_t)bytes;
}

/* The call's arguments into argv[want]; 0 (a RangeError thrown, naming the function) unless exactly `want`. */
static int args(napi_env env, napi_callback_info info, size_t want, napi_value *argv, const char *message) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != want) {
    napi_throw_range_error(env, NULL, message);
    return 0;
  }
  return 1;
}

/* sgemm(a, aOff, lda, transA, b, bOff, ldb, transB, c, cOff, ldc, m, n, k, beta) */
static napi_value Sgemm(napi_env env, napi_callback_info info) {
  napi_value argv[15];
  if (!args(env, info, 15, argv, "genlab_blas.sgemm: expected 15 arguments")) return NULL;
  char *A, *B, *C;
  size_t aBytes, bBytes, cBytes;
  if (!view(env, argv[0], &A, &aBytes) || !view(env, argv[4], &B, &bBytes) || !view(env, argv[8], &C, &cBytes)) {
    napi_throw_type_error(env, NULL, "genlab_blas.sgemm: operands must be Float32Array or Uint8Array");
    return NULL;
  }
  int64_t aOff = num(env, argv[1]), lda = num(env, argv[2]), bOff = num(env, argv[5]), ldb = num(env, argv[6]);
  int64_t cOff = num(env, argv[9]), ldc = num(env, argv[10]), m = num(env, argv[11]), n = num(env, argv[12]), k = num(env, argv[13]);
  bool tA, tB;
  double beta;
  CHECK(napi_get_value_bool(env, argv[3], &tA));
  CHECK(napi_get_value_bool(env, argv[7], &tB));
  CHECK(napi_get_value_double(env, argv[14], &beta));
  if (!fits(aOff, m, k, lda, tA, aBytes) || !fits(bOff, k, n, ldb, tB, bBytes) || !fits(cOff, m, n, ldc, 0, cBytes)) {
    napi_throw_range_error(env, NULL, "genlab_blas.sgemm: an operand does not fit in its array");
    return NULL;
  }
#ifdef GENLAB_OPENBLAS
  if (!own) {
    cblas_sgemm(CblasRowMajor, tA ? CblasTrans : CblasNoTrans, tB ? CblasTrans : CblasNoTrans, (int)m, (int)n, (int)k, 1.0f, (const float *)(A + aOff), (int)lda,
                (const float *)(B + bOff), (int)ldb, (float)beta, (float *)(C + cOff), (int)ldc);
    return NULL;
  }
#endif
  if (genlab_sgemm(tA, tB, m, n, k, (const float *)(A + aOff), lda, (const float *)(B + bOff), ldb, (float)beta, (float *)(C + cOff), ldc) != 0)
    napi_throw_error(env, NULL, "genlab_blas.sgemm: out of memory for the GEMM's packing buffers");
  return NULL;
}

/*
 * materialize(prog, consts, mem, offs, out, n[, rowLength]): out[t] = f(loads at t) for t < n, where f is a postfix
 * program (Int32Array of opcode, operand pairs) over float32 values: the A side that jax-js fused into a
 * matmul (an activation derivative, a ReLU mask), which the dispatch used to evaluate in a JS loop.
 * Loads read mem (the Wasm memory) at byte offset offs[k] + 4t (a Float64Array: offsets past 2 GiB), as float32 (LOAD_F) or as an int32 bool
 * (LOAD_B: 1 where ≠ 0), a row vector (LOAD_ROW: element t mod rowLength) or a column (LOAD_COL: element
 * ⌊t / rowLength⌋); every load's extent is checked first. Each operation rounds to float32 (the
 * file is compiled with -ffp-contract=off: no fused multiply-add), so the result equals the JS loop's
 * Math.fround after every operation bit for bit. Evaluated in blocks of 256 elements on a small stack.
 */
enum { OP_LOAD_F = 0, OP_LOAD_B = 1, OP_CONST = 2, OP_ADD = 3, OP_SUB = 4, OP_MUL = 5, OP_LT = 6, OP_WHERE = 7, OP_LOAD_ROW = 8, OP_MAX = 9, OP_MIN = 10, OP_COUNT_V1 = 11, OP_LOAD_COL = 12, OP_COUNT = 13 };
#define BLOCK 256
#define DEPTH 16

/* A typed array of exactly the given type: its data and length in elements. */
static int typed(napi_env env, napi_value v, napi_typedarray_type want, void **data, size_t *len) {
  napi_typedarray_type type;
  size_t offset;
  napi_value ab;
  return napi_get_typedarray_info(env, v, &type, len, data, &ab, &offset) == napi_ok && type == want;
}

/* Math.max / Math.min of JS (and Wasm's f32.max / f32.min): NaN if either is NaN, and −0 < +0. */
static inline float jsmax(float a, float b) { return (a != a || b != b) ? a + b : a > b ? a : b > a ? b : (signbit(a) ? b : a); }
static inline float jsmin(float a, float b) { return (a != a || b != b) ? a + b : a < b ? a : b < a ? b : (signbit(a) ? a : b); }

static napi_value Materialize(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 6 && argc != 7) {
    napi_throw_range_error(env, NULL, "genlab_blas.materialize: expected 6 or 7 arguments");
    return NULL;
  }
  int32_t *prog;
  double *offd;
  size_t plen, nleaves, memBytes, outBytes, cBytes;
  char *mem, *out, *cs;
  if (!typed(env, argv[0], napi_int32_array, (void **)&prog, &plen) || !typed(env, argv[3], napi_float64_array, (void **)&offd, &nleaves) || !view(env, argv[1], &cs, &cBytes) || !view(env, argv[2], &mem, &memBytes) || !view(env, argv[4], &out, &outBytes)) {
    napi_throw_type_error(env, NULL, "genlab_blas.materialize: expected (Int32Array, Float32Array, Uint8Array, Float64Array, Float32Array, n[, rowLength])");
    return NULL;
  }
  if (nleaves > 64) {
    napi_throw_range_error(env, NULL, "genlab_blas.materialize: more than 64 loads");
    return NULL;
  }
  int64_t offs[64];
  for (size_t i = 0; i < nleaves; i++) offs[i] = offd[i] >= 0 && offd[i] < 9.0e15 ? (int64_t)offd[i] : -1;
  int64_t n = num(env, argv[5]);
  /* LOAD_ROW reads a row vector: element (t mod rowLength), the bias of an epilogue over C */
  int64_t row = argc == 7 ? num(env, argv[6]) : n;
  if (row < 1) row = 1;
  if (n < 0 || (size_t)n * 4 > outBytes || plen % 2) {
    napi_throw_range_error(env, NULL, "genlab_blas.materialize: the output does not fit");
    return NULL;
  }
  /* validate the program: operands in range, the stack never under- or overflows, one value at the end */
  int depth = 0;
  for (size_t i = 0; i < plen; i += 2) {
    int op = prog[i], a = prog[i + 1];
    if (op == OP_LOAD_F || op == OP_LOAD_B || op == OP_LOAD_ROW || op == OP_LOAD_COL) {
      uint64_t extent = 4 * (uint64_t)(op == OP_LOAD_ROW ? (row < n ? row : n) : op == OP_LOAD_COL ? (n + row - 1) / row : n);
      if (a < 0 || (size_t)a >= nleaves || offs[a] < 0 || (offs[a] & 3) || offs[a] != offd[a] || (uint64_t)offs[a] + extent > memBytes) depth = -100;
      depth++;
    } else if (op == OP_CONST) {
      if (a < 0 || (size_t)a * 4 >= cBytes) depth = -100;
      depth++;
    } else if ((op >= OP_ADD && op <= OP_LT) || op == OP_MAX || op == OP_MIN) depth -= 1;
    else if (op == OP_WHERE) depth -= 2;
    else depth = -100;
    if (depth < 1 || depth > DEPTH) break;
  }
  if (depth != 1) {
    napi_throw_range_error(env, NULL, "genlab_blas.materialize: a bad program or a load that does not fit");
    return NULL;
  }
  static float st[DEPTH][BLOCK];
  const float *consts = (const float *)cs;
  float *o = (float *)out;
  for (int64_t t0 = 0; t0 < n; t0 += BLOCK) {
    int len = n - t0 < BLOCK ? (int)(n - t0) : BLOCK;
    int sp = 0;
    for (size_t i = 0; i < plen; i += 2) {
      int op = prog[i], a = prog[i + 1];
      float *x = sp >= 1 ? st[sp - 1] : NULL, *y = sp >= 2 ? st[sp - 2] : NULL, *z = sp >= 3 ? st[sp - 3] : NULL;
      switch (op) {
        case OP_LOAD_F: {
          const float *src = (const float *)(mem + offs[a]) + t0;
          for (int j = 0; j < len; j++) st[sp][j] = src[j];
          sp++;
          break;
        }
        case OP_LOAD_B: {
          const int32_t *src = (const int32_t *)(mem + offs[a]) + t0;
          for (int j = 0; j < len; j++) st[sp][j] = src[j] != 0 ? 1.0f : 0.0f;
          sp++;
          break;
        }
        case OP_CONST:
          for (int j = 0; j < len; j++) st[sp][j] = consts[a];
          sp++;
          break;
        case OP_ADD:
          for (int j = 0; j < len; j++) y[j] = y[j] + x[j];
          sp--;
          break;
        case OP_SUB:
          for (int j = 0; j < len; j++) y[j] = y[j] - x[j];
          sp--;
          break;
        case OP_MUL:
          for (int j = 0; j < len; j++) y[j] = y[j] * x[j];
          sp--;
          break;
        case OP_LT:
          for (int j = 0; j < len; j++) y[j] = y[j] < x[j] ? 1.0f : 0.0f;
          sp--;
          break;
        case OP_LOAD_ROW: {
          const float *src = (const float *)(mem + offs[a]);
          int64_t r = t0 % row;
          for (int j = 0; j < len; j++) {
            st[sp][j] = src[r];
            if (++r == row) r = 0;
          }
          sp++;
          break;
        }
        case OP_LOAD_COL: { /* one value a row: element ⌊t / rowLength⌋ (a column term of an epilogue) */
          const float *src = (const float *)(mem + offs[a]);
          for (int j = 0; j < len; j++) st[sp][j] = src[(t0 + j) / row];
          sp++;
          break;
        }
        case OP_MAX:
          for (int j = 0; j < len; j++) y[j] = jsmax(y[j], x[j]);
          sp--;
          break;
        case OP_MIN:
          for (int j = 0; j < len; j++) y[j] = jsmin(y[j], x[j]);
          sp--;
          break;
        case OP_WHERE: /* cond, then, else → z = cond ? then : else */
          for (int j = 0; j < len; j++) z[j] = z[j] != 0.0f ? y[j] : x[j];
          sp -= 2;
          break;
      }
    }
    for (int j = 0; j < len; j++) o[t0 + j] = st[0][j];
  }
  return NULL;
}

static napi_value SetThreads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int64_t t = argc ? num(env, argv[0]) : 1;
#ifdef GENLAB_OPENBLAS
  openblas_set_num_threads(t < 1 ? 1 : (int)t);
#else
  (void)t; /* genlab's own GEMM runs on one thread */
#endif
  return NULL;
}

/* setGemm("openblas" | "own"): which GEMM sgemm calls; false (nothing changed) where OpenBLAS is not linked. */
static napi_value SetGemm(napi_env env, napi_callback_info info) {
  napi_value argv[1], out;
  if (!args(env, info, 1, argv, "genlab_blas.setGemm: expected 1 argument")) return NULL;
  char name[16] = {0};
  size_t len = 0;
  CHECK(napi_get_value_string_utf8(env, argv[0], name, sizeof name, &len));
  int ok = strcmp(name, "own") == 0;
#ifdef GENLAB_OPENBLAS
  if (ok) own = 1;
  else if (strcmp(name, "openblas") == 0) own = 0, ok = 1;
#endif
  CHECK(napi_get_boolean(env, ok, &out));
  return out;
}

static napi_value Info(napi_env env, napi_callback_info info) {
  /* config: the GEMM that sgemm calls (OpenBLAS's config string, or genlab-gemm's ISA and tile);
     threads: its threads; gemm: "openblas" | "own"; openblas: whether OpenBLAS is linked */
  napi_value out, s, t, g, o;
  CHECK(napi_create_object(env, &out));
#ifdef GENLAB_OPENBLAS
  CHECK(napi_create_string_utf8(env, own ? genlab_gemm_describe() : openblas_get_config(), NAPI_AUTO_LENGTH, &s));
  CHECK(napi_create_int32(env, own ? 1 : openblas_get_num_threads(), &t));
  CHECK(napi_get_boolean(env, 1, &o));
#else
  CHECK(napi_create_string_utf8(env, genlab_gemm_describe(), NAPI_AUTO_LENGTH, &s));
  CHECK(napi_create_int32(env, 1, &t));
  CHECK(napi_get_boolean(env, 0, &o));
#endif
  CHECK(napi_create_string_utf8(env, own ? "own" : "openblas", NAPI_AUTO_LENGTH, &g));
  CHECK(napi_set_named_property(env, out, "config", s));
  CHECK(napi_set_named_property(env, out, "threads", t));
  CHECK(napi_set_named_property(env, out, "gemm", g));
  CHECK(napi_set_named_property(env, out, "openblas", o));
  return out;
}

/*
 * scatterRows(out, upd, ids, n, width, rows): out[ids[r], :] += upd[r, :] for r = 0, 1, …, n − 1 in order, skipping ids
 * outside [0, rows) — jax-js's Scatter (add) of whole rows by one index array, the gradient of take(table, ids, 0).
 * Each element is one float32 add per update in update order: the bits of the JS loop it replaces.
 */
static napi_value ScatterRows(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  if (!args(env, info, 6, argv, "genlab_blas.scatterRows: expected 6 arguments")) return NULL;
  napi_typedarray_type to, tu, ti;
  size_t no, nu, ni, off;
  void *po, *pu, *pi;
  napi_value ab;
  CHECK(napi_get_typedarray_info(env, argv[0], &to, &no, &po, &ab, &off));
  CHECK(napi_get_typedarray_info(env, argv[1], &tu, &nu, &pu, &ab, &off));
  CHECK(napi_get_typedarray_info(env, argv[2], &ti, &ni, &pi, &ab, &off));
  int64_t n = num(env, argv[3]), width = num(env, argv[4]), rows = num(env, argv[5]);
  if (to != napi_float32_array || tu != napi_float32_array || ti != napi_int32_array) {
    napi_throw_type_error(env, NULL, "genlab_blas.scatterRows: expected Float32Array, Float32Array, Int32Array");
    return NULL;
  }
  if (n < 0 || width < 0 || rows < 0) {
    napi_throw_range_error(env, NULL, "genlab_blas.scatterRows: negative n, width or rows");
    return NULL;
  }
  if (width == 0 || rows == 0 || n == 0) return NULL; /* nothing to add (the JS loop does nothing either) */
  /* n ≤ ids, rows·width ≤ out and n·width ≤ upd, by division (no product can wrap); arrays may be longer */
  if ((size_t)n > ni || (size_t)rows > no / (size_t)width || (size_t)n > nu / (size_t)width) {
    napi_throw_range_error(env, NULL, "genlab_blas.scatterRows: an operand does not fit in its array");
    return NULL;
  }
  float *o = (float *)po;
  const float *u = (const float *)pu;
  const int32_t *ids = (const int32_t *)pi;
  for (size_t r = 0; r < (size_t)n; r++) {
    int32_t row = ids[r];
    if (row < 0 || row >= rows) continue;
    float *dst = o + (size_t)row * width;
    const float *src = u + r * width;
    for (int64_t t = 0; t < width; t++) dst[t] += src[t];
  }
  return NULL;
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"sgemm", NULL, Sgemm, NULL, NULL, NULL, napi_default, NULL},
      {"setThreads", NULL, SetThreads, NULL, NULL, NULL, napi_default, NULL},
      {"info", NULL, Info, NULL, NULL, NULL, napi_default, NULL},
      {"materialize", NULL, Materialize, NULL, NULL, NULL, napi_default, NULL},
      {"scatterRows", NULL, ScatterRows, NULL, NULL, NULL, napi_default, NULL},
      {"setGemm", NULL, SetGemm, NULL, NULL, NULL, napi_default, NULL},
  };
  CHECK(napi_define_properties(env, exports, 6, props));
  napi_value ops;
  CHECK(napi_create_int32(env, OP_COUNT, &ops));
  CHECK(napi_set_named_property(env, exports, "materializeOps", ops));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
