/*
 * genlab's native matmul: one N-API function over OpenBLAS's cblas_sgemm, computing in place on the
 * memory of jax-js's Wasm backend (a typed array over the WebAssembly.Memory buffer, shared or not), so
 * nothing is copied. Row-major C[m×n] = op(A)[m×k] · op(B)[k×n] + beta·C, with the operands given as
 * (typed array, byte offset, leading dimension, transposed?). Every offset and extent is checked against
 * the arrays' lengths before OpenBLAS is called; a bad call throws a RangeError, never touches memory.
 */
#include <node_api.h>
#include <stdint.h>
#include <cblas.h>

extern void openblas_set_num_threads(int);
extern int openblas_get_num_threads(void);
extern char *openblas_get_config(void);

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

/* sgemm(a, aOff, lda, transA, b, bOff, ldb, transB, c, cOff, ldc, m, n, k, beta) */
static napi_value Sgemm(napi_env env, napi_callback_info info) {
  size_t argc = 15;
  napi_value argv[15];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 15) {
    napi_throw_range_error(env, NULL, "genlab_blas.sgemm: expected 15 arguments");
    return NULL;
  }
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
  cblas_sgemm(CblasRowMajor, tA ? CblasTrans : CblasNoTrans, tB ? CblasTrans : CblasNoTrans, (int)m, (int)n, (int)k, 1.0f, (const float *)(A + aOff), (int)lda,
              (const float *)(B + bOff), (int)ldb, (float)beta, (float *)(C + cOff), (int)ldc);
  return NULL;
}

static napi_value SetThreads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int64_t t = argc ? num(env, argv[0]) : 1;
  openblas_set_num_threads(t < 1 ? 1 : (int)t);
  return NULL;
}

static napi_value Info(napi_env env, napi_callback_info info) {
  napi_value out, s, t;
  CHECK(napi_create_object(env, &out));
  CHECK(napi_create_string_utf8(env, openblas_get_config(), NAPI_AUTO_LENGTH, &s));
  CHECK(napi_create_int32(env, openblas_get_num_threads(), &t));
  CHECK(napi_set_named_property(env, out, "config", s));
  CHECK(napi_set_named_property(env, out, "threads", t));
  return out;
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"sgemm", NULL, Sgemm, NULL, NULL, NULL, napi_default, NULL},
      {"setThreads", NULL, SetThreads, NULL, NULL, NULL, napi_default, NULL},
      {"info", NULL, Info, NULL, NULL, NULL, napi_default, NULL},
  };
  CHECK(napi_define_properties(env, exports, 3, props));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
