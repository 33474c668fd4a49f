{
  "variables": {
    "genlab_blas%": "<!(node -p \"process.env.GENLAB_NATIVE_BLAS || 'openblas'\")"
  },
  "targets": [
    {
      "target_name": "genlab_blas",
      "sources": ["genlab_blas.c", "genlab_gemm.c"],
      "cflags": ["-O3", "-march=native", "-ffp-contract=off"],
      "conditions": [
        ["genlab_blas=='openblas'", {
          "defines": ["GENLAB_OPENBLAS"],
          "include_dirs": ["/usr/include/x86_64-linux-gnu/openblas-pthread", "/usr/include/openblas"],
          "libraries": ["-lopenblas"]
        }]
      ]
    }
  ]
}
