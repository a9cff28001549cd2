// mnist_mlp_record__fc1_relu__adams2019__x86_64_linux_avx2_fma: Halide 14's Adams2019 for x86-64-linux-avx2-fma, typical batch 32, machine parameters 2,33554432,40
Func y0_6 = pipeline.get_func(3);
Func acc0_6 = pipeline.get_func(2);
Var b(y0_6.get_schedule().dims()[1].var);
Var bi("bi");
Var bii("bii");
Var n(y0_6.get_schedule().dims()[0].var);
Var ni("ni");
Var nii("nii");
RVar k0_x(acc0_6.update(0).get_schedule().dims()[0].var);
y0_6
    .split(b, b, bi, 16, TailStrategy::ShiftInwards)
    .split(n, n, ni, 64, TailStrategy::ShiftInwards)
    .split(bi, bi, bii, 2, TailStrategy::ShiftInwards)
    .split(ni, ni, nii, 8, TailStrategy::ShiftInwards)
    .vectorize(nii)
    .compute_root()
    .reorder({nii, ni, bii, n, bi, b})
    .parallel(b);
acc0_6.update(0)
    .split(b, b, bi, 8, TailStrategy::GuardWithIf)
    .vectorize(bi)
    .reorder({bi, k0_x, b, n});
acc0_6
    .split(b, b, bi, 8, TailStrategy::RoundUp)
    .vectorize(bi)
    .compute_at(y0_6, b)
    .reorder({bi, b, n})
    .reorder_storage(b, n);
