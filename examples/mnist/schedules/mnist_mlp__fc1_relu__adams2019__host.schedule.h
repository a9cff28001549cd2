Func y0_12 = pipeline.get_func(3);
Func acc0_12 = pipeline.get_func(2);
Var b(y0_12.get_schedule().dims()[1].var);
Var bi("bi");
Var n(y0_12.get_schedule().dims()[0].var);
Var ni("ni");
Var nii("nii");
Var niii("niii");
RVar k0_x(acc0_12.update(0).get_schedule().dims()[0].var);
y0_12
    .split(n, n, ni, 32, TailStrategy::ShiftInwards)
    .split(b, b, bi, 16, TailStrategy::ShiftInwards)
    .split(ni, ni, nii, 16, TailStrategy::ShiftInwards)
    .split(nii, nii, niii, 8, TailStrategy::ShiftInwards)
    .vectorize(niii)
    .compute_root()
    .reorder({niii, nii, bi, ni, n, b})
    .fuse(n, b, n)
    .parallel(n);
acc0_12.update(0)
    .split(n, n, ni, 8, TailStrategy::GuardWithIf)
    .vectorize(ni)
    .reorder({ni, k0_x, n, b});
acc0_12
    .split(n, n, ni, 8, TailStrategy::RoundUp)
    .vectorize(ni)
    .compute_at(y0_12, n)
    .reorder({ni, n, b});
