// mnist_mlp_record__fc2__mullapudi2016__x86_64_linux_avx2_fma: Halide 14's Mullapudi2016 for x86-64-linux-avx2-fma, typical batch 32, machine parameters 2,33554432,40
Var n_vi("n_vi");
Var n_vo("n_vo");

Func acc1_2 = pipeline.get_func(2);
Func y1_2 = pipeline.get_func(3);

{
    Var n = acc1_2.args()[0];
    Var b = acc1_2.args()[1];
    acc1_2
        .compute_root()
        .split(n, n_vo, n_vi, 8)
        .vectorize(n_vi)
        .parallel(b);
    acc1_2.update(0)
        .split(n, n_vo, n_vi, 8, TailStrategy::GuardWithIf)
        .vectorize(n_vi)
        .parallel(b);
}
{
    Var n = y1_2.args()[0];
    Var b = y1_2.args()[1];
    y1_2
        .compute_root()
        .split(n, n_vo, n_vi, 8)
        .vectorize(n_vi)
        .parallel(b);
}

