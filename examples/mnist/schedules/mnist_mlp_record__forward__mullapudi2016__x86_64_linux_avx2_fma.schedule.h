// mnist_mlp_record__forward__mullapudi2016__x86_64_linux_avx2_fma: Halide 14's Mullapudi2016 for x86-64-linux-avx2-fma, typical batch 32, machine parameters 2,33554432,40
Var n_vi("n_vi");
Var n_vo("n_vo");

Func acc0 = pipeline.get_func(2);
Func acc1 = pipeline.get_func(4);
Func y0_0 = pipeline.get_func(3);
Func y1_0 = pipeline.get_func(5);

{
    Var n = acc0.args()[0];
    Var b = acc0.args()[1];
    acc0
        .compute_root()
        .split(n, n_vo, n_vi, 8)
        .vectorize(n_vi)
        .parallel(b);
    acc0.update(0)
        .split(n, n_vo, n_vi, 8, TailStrategy::GuardWithIf)
        .vectorize(n_vi)
        .parallel(b);
}
{
    Var n = acc1.args()[0];
    Var b = acc1.args()[1];
    acc1
        .compute_root()
        .split(n, n_vo, n_vi, 8)
        .vectorize(n_vi)
        .parallel(b);
    acc1.update(0)
        .split(n, n_vo, n_vi, 8, TailStrategy::GuardWithIf)
        .vectorize(n_vi)
        .parallel(b);
}
{
    Var n = y0_0.args()[0];
    Var b = y0_0.args()[1];
    y0_0
        .compute_root()
        .split(n, n_vo, n_vi, 8)
        .vectorize(n_vi)
        .parallel(b);
}
{
    Var n = y1_0.args()[0];
    Var b = y1_0.args()[1];
    y1_0
        .compute_root()
        .split(n, n_vo, n_vi, 8)
        .vectorize(n_vi)
        .parallel(b);
}

