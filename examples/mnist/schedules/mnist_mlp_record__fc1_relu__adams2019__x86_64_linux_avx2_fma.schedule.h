// mnist_mlp_record__fc1_relu__adams2019__x86_64_linux_avx2_fma: Halide 14's Adams2019 for x86-64-linux-avx2-fma, typical batch 32, machine parameters 2,33554432,40
Func y0_6 = pipeline.get_func(3);
Func acc0_6 = pipeline.get_func(2);
Var b(y0_6.get_schedule().dims()[1].var);
Var n(y0_6.get_schedule().dims()[0].var);
Var ni("ni");
RVar k0_x(acc0_6.update(0).get_schedule().dims()[0].var);
y0_6
    .split(n, n, ni, 8, TailStrategy::ShiftInwards)
    .vectorize(ni)
    .compute_root()
    .reorder({ni, n, b})
    .parallel(b);
acc0_6.update(0)
    .split(n, n, ni, 8, TailStrategy::GuardWithIf)
    .vectorize(ni)
    .reorder({ni, n, b, k0_x});
acc0_6
    .store_in(MemoryType::Stack)
    .split(n, n, ni, 8, TailStrategy::RoundUp)
    .vectorize(ni)
    .compute_at(y0_6, n)
    .reorder({ni, n, b});
