Var n_vi("n_vi");
Var n_vo("n_vo");

Func acc0_6 = pipeline.get_func(2);
Func acc1_6 = pipeline.get_func(4);
Func y0_6 = pipeline.get_func(3);
Func y1_6 = pipeline.get_func(5);

{
    Var n = acc0_6.args()[0];
    Var b = acc0_6.args()[1];
    acc0_6
        .compute_root()
        .split(n, n_vo, n_vi, 8)
        .vectorize(n_vi)
        .parallel(b);
    acc0_6.update(0)
        .split(n, n_vo, n_vi, 8, TailStrategy::GuardWithIf)
        .vectorize(n_vi)
        .parallel(b);
}
{
    Var n = acc1_6.args()[0];
    Var b = acc1_6.args()[1];
    acc1_6
        .compute_root()
        .split(n, n_vo, n_vi, 8)
        .vectorize(n_vi)
        .parallel(b);
    acc1_6.update(0)
        .split(n, n_vo, n_vi, 8, TailStrategy::GuardWithIf)
        .vectorize(n_vi)
        .parallel(b);
}
{
    Var n = y0_6.args()[0];
    Var b = y0_6.args()[1];
    y0_6
        .compute_root()
        .split(n, n_vo, n_vi, 8)
        .vectorize(n_vi)
        .parallel(b);
}
{
    Var n = y1_6.args()[0];
    Var b = y1_6.args()[1];
    y1_6
        .compute_root()
        .split(n, n_vo, n_vi, 8)
        .vectorize(n_vi)
        .parallel(b);
}

