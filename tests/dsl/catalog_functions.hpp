// The activation catalog as a run-time table of plain function pointers, for tests that look
// activations up by name (the MPFR reference and the PyTorch golden files use the same
// names as `Act::kind`): the reference `eval`, `eval_native`, and both for the derivative.
#pragma once

#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <boost/hana/for_each.hpp>

#include <nnfuse/dsl.hpp>

namespace nnfuse::test {

struct CatalogEntry {
  std::string name;
  float (*value)(float);
  float (*value_native)(float);
  float (*slope)(float);
  float (*slope_native)(float);
  double (*value64)(double);
  double (*slope64)(double);
};

// How GoogleTest prints a parameter, and so how CTest names a parameterised test: the
// activation's name (the default dumps the struct's bytes, pointers included, so the names
// changed from one build to the next).
inline void PrintTo(const CatalogEntry& entry, std::ostream* os) {
  *os << entry.name;
}

inline std::vector<CatalogEntry> catalog_functions() {
  std::vector<CatalogEntry> all;
  boost::hana::for_each(nnfuse::elementwise_catalog, [&](auto layer) {
    using Layer = typename decltype(layer)::type;
    using E = typename Layer::expression_type;
    using D = decltype(nnfuse::derivative(E{}));
    all.push_back({std::string(Layer::kind), [](float v) { return nnfuse::eval(E{}, v); },
                   [](float v) { return nnfuse::eval_native(E{}, v); },
                   [](float v) { return nnfuse::eval(D{}, v); },
                   [](float v) { return nnfuse::eval_native(D{}, v); },
                   [](double v) { return nnfuse::eval(E{}, v); },
                   [](double v) { return nnfuse::eval(D{}, v); }});
  });
  return all;
}

}  // namespace nnfuse::test
