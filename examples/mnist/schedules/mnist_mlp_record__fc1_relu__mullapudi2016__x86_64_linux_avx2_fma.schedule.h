// mnist_mlp_record__fc1_relu__mullapudi2016__x86_64_linux_avx2_fma: Halide 14's Mullapudi2016 for x86-64-linux-avx2-fma, typical batch 32, machine parameters 2,33554432,40
Var n_vi("n_vi");
Var n_vo("n_vo");

Func acc0_2 = pipeline.get_func(2);
Func y0_2 = pipeline.get_func(3);

{
    Var n = acc0_2.args()[0];
    Var b = acc0_2.args()[1];
    acc0_2
        .compute_root()
        .split(n, n_vo, n_vi, 8)
        .vectorize(n_vi)
        .parallel(b);
    acc0_2.update(0)
        .split(n, n_vo, n_vi, 8, TailStrategy::GuardWithIf)
        .vectorize(n_vi)
        .parallel(b);
}
{
    Var n = y0_2.args()[0];
    Var b = y0_2.args()[1];
    y0_2
        .compute_root()
        .split(n, n_vo, n_vi, 8)
        .vectorize(n_vi)
        .parallel(b);
}

