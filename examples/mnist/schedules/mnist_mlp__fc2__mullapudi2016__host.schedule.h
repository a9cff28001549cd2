Var n_vi("n_vi");
Var n_vo("n_vo");

Func acc1_8 = pipeline.get_func(2);
Func y1_8 = pipeline.get_func(3);

{
    Var n = acc1_8.args()[0];
    Var b = acc1_8.args()[1];
    acc1_8
        .compute_root()
        .split(n, n_vo, n_vi, 8)
        .vectorize(n_vi)
        .parallel(b);
    acc1_8.update(0)
        .split(n, n_vo, n_vi, 8, TailStrategy::GuardWithIf)
        .vectorize(n_vi)
        .parallel(b);
}
{
    Var n = y1_8.args()[0];
    Var b = y1_8.args()[1];
    y1_8
        .compute_root()
        .split(n, n_vo, n_vi, 8)
        .vectorize(n_vi)
        .parallel(b);
}

