{
  "targets": [
    {
      "target_name": "genlab_blas",
      "sources": ["genlab_blas.c"],
      "include_dirs": ["/usr/include/x86_64-linux-gnu/openblas-pthread", "/usr/include/openblas"],
      "libraries": ["-lopenblas"],
      "cflags": ["-O3", "-ffp-contract=off"]
    }
  ]
}
