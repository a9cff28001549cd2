// mnist_mlp_record__fc2__adams2019__x86_64_linux_avx2_fma: Halide 14's Adams2019 for x86-64-linux-avx2-fma, typical batch 32, machine parameters 2,33554432,40
Func y1_6 = pipeline.get_func(3);
Func acc1_6 = pipeline.get_func(2);
Var b(y1_6.get_schedule().dims()[1].var);
Var bi("bi");
Var n(y1_6.get_schedule().dims()[0].var);
Var ni("ni");
RVar k1_x(acc1_6.update(0).get_schedule().dims()[0].var);
y1_6
    .split(b, b, bi, 2, TailStrategy::ShiftInwards)
    .split(n, n, ni, 8, TailStrategy::ShiftInwards)
    .unroll(bi)
    .vectorize(ni)
    .compute_root()
    .reorder({ni, bi, n, b})
    .parallel(b);
acc1_6.update(0)
    .split(n, n, ni, 8, TailStrategy::GuardWithIf)
    .unroll(b)
    .vectorize(ni)
    .reorder({ni, n, b, k1_x});
acc1_6
    .store_in(MemoryType::Stack)
    .split(n, n, ni, 8, TailStrategy::RoundUp)
    .unroll(b)
    .vectorize(ni)
    .compute_at(y1_6, n)
    .reorder({ni, n, b});
