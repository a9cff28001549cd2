// mnist_mlp_record__forward__adams2019__x86_64_linux_avx2_fma: Halide 14's Adams2019 for x86-64-linux-avx2-fma, typical batch 32, machine parameters 2,33554432,40
Func y1_4 = pipeline.get_func(5);
Func acc1_4 = pipeline.get_func(4);
Func y0_4 = pipeline.get_func(3);
Func acc0_4 = pipeline.get_func(2);
Var b(y1_4.get_schedule().dims()[1].var);
Var bi("bi");
Var n(y1_4.get_schedule().dims()[0].var);
Var ni("ni");
RVar k0_x(acc0_4.update(0).get_schedule().dims()[0].var);
RVar k1_x(acc1_4.update(0).get_schedule().dims()[0].var);
y1_4
    .split(b, b, bi, 8, TailStrategy::ShiftInwards)
    .split(n, n, ni, 8, TailStrategy::ShiftInwards)
    .vectorize(ni)
    .compute_root()
    .reorder({ni, n, bi, b})
    .parallel(b);
acc1_4
    .store_in(MemoryType::Stack)
    .split(n, n, ni, 8, TailStrategy::RoundUp)
    .vectorize(ni)
    .compute_at(y1_4, n)
    .reorder({ni, n, b});
acc1_4.update(0)
    .split(n, n, ni, 8, TailStrategy::GuardWithIf)
    .vectorize(ni)
    .reorder({ni, n, b, k1_x});
y0_4
    .split(b, b, bi, 2, TailStrategy::ShiftInwards)
    .split(n, n, ni, 8, TailStrategy::ShiftInwards)
    .vectorize(ni)
    .compute_root()
    .reorder({ni, n, bi, b})
    .parallel(b);
acc0_4
    .store_in(MemoryType::Stack)
    .split(n, n, ni, 8, TailStrategy::RoundUp)
    .vectorize(ni)
    .compute_at(y0_4, n)
    .reorder({ni, n, b});
acc0_4.update(0)
    .split(n, n, ni, 8, TailStrategy::GuardWithIf)
    .vectorize(ni)
    .reorder({ni, n, b, k0_x});
