Func y1_12 = pipeline.get_func(3);
Func acc1_12 = pipeline.get_func(2);
Var b(y1_12.get_schedule().dims()[1].var);
Var bi("bi");
Var n(y1_12.get_schedule().dims()[0].var);
Var ni("ni");
RVar k1_x(acc1_12.update(0).get_schedule().dims()[0].var);
y1_12
    .split(b, b, bi, 2, TailStrategy::ShiftInwards)
    .split(n, n, ni, 8, TailStrategy::ShiftInwards)
    .unroll(bi)
    .vectorize(ni)
    .compute_root()
    .reorder({ni, bi, n, b})
    .parallel(b);
acc1_12.update(0)
    .split(n, n, ni, 8, TailStrategy::GuardWithIf)
    .unroll(b)
    .vectorize(ni)
    .reorder({ni, n, b, k1_x});
acc1_12
    .store_in(MemoryType::Stack)
    .split(n, n, ni, 8, TailStrategy::RoundUp)
    .unroll(b)
    .vectorize(ni)
    .compute_at(y1_12, n)
    .reorder({ni, n, b});
