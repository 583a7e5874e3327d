#pragma once
// The double-precision gradient check of a block, as chapters 03, 06 and 10 run it: every
// BatchNorm's gamma and beta randomized (so no affine term hides a wrongly routed gradient),
// then dx and every trainable parameter's gradient against central differences of
// L = sum(y * g), each measured on its own tensor's scale (check.hpp's scaled_gradcheck).
#include <catch2/catch.hpp>

#include "support/check.hpp"

namespace convbook::test {

/// Checks `block` on a N(0, 1) input of shape `input`: worst scaled error of dx and of the
/// parameter gradients below `tolerance`, finite differences with step `eps`. Meant for the
/// *_f64 test programs (Scalar = double).
inline void check_block_gradients(Module& block, const Shape& input, double eps = 1e-5,
                                  double tolerance = 1e-7) {
  randomize_batchnorms(block, 4);
  const GradCheckResult r = scaled_gradcheck(block, random_tensor(input, 5), eps);
  INFO(block.repr() << " on " << to_string(input) << ": dx " << r.input << ", worst parameter "
                    << r.worst_parameter << " " << r.parameters);
  CHECK(r.input < tolerance);
  CHECK(r.parameters < tolerance);
}

}  // namespace convbook::test
