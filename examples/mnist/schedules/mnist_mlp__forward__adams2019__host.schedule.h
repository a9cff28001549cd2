Func y1_10 = pipeline.get_func(5);
Func acc1_10 = pipeline.get_func(4);
Func y0_10 = pipeline.get_func(3);
Func acc0_10 = pipeline.get_func(2);
Var b(y1_10.get_schedule().dims()[1].var);
Var bi("bi");
Var n(y1_10.get_schedule().dims()[0].var);
Var ni("ni");
RVar k0_x(acc0_10.update(0).get_schedule().dims()[0].var);
RVar k1_x(acc1_10.update(0).get_schedule().dims()[0].var);
RVar k1_xi("k1$xi");
y1_10
    .split(n, n, ni, 8, TailStrategy::ShiftInwards)
    .vectorize(ni)
    .compute_root()
    .reorder({ni, n, b})
    .parallel(b);
acc1_10
    .split(n, n, ni, 8, TailStrategy::RoundUp)
    .vectorize(ni)
    .compute_at(y1_10, b)
    .reorder({ni, n, b});
acc1_10.update(0)
    .split(k1_x, k1_x, k1_xi, 4, TailStrategy::GuardWithIf)
    .split(n, n, ni, 8, TailStrategy::GuardWithIf)
    .vectorize(ni)
    .reorder({ni, k1_xi, n, k1_x, b});
y0_10
    .store_in(MemoryType::Stack)
    .split(b, b, bi, 8, TailStrategy::GuardWithIf)
    .vectorize(bi)
    .compute_at(acc1_10, k1_xi)
    .store_at(acc1_10, k1_x)
    .reorder({bi, b, n})
    .reorder_storage(b, n);
acc0_10
    .split(n, n, ni, 8, TailStrategy::RoundUp)
    .vectorize(ni)
    .compute_root()
    .reorder({ni, n, b})
    .parallel(b);
acc0_10.update(0)
    .split(n, n, ni, 8, TailStrategy::GuardWithIf)
    .vectorize(ni)
    .reorder({ni, k0_x, n, b})
    .parallel(b);
