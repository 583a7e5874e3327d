// Chapter 01: the kernels that skip im2col (pointwise, direct, depthwise) in double, against
// the seven-loop reference on the same grid as test_direct.cpp.
//
// Tolerance: in double the different order of the additions costs ~1e-16 per addition
// relative to the largest partial sum; the longest sums here (dw over N*P*Q, a few hundred
// terms) stay far below 1e-12 relative to the reference's largest value, which we require.
// A wrong index or a missed tap shows up as an error of order 1, in float as in double; what
// this program adds is that the double instantiation (xsimd::batch<double>, 8 lanes) is
// exercised and agrees to double precision, so it can serve gradient checks.
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <vector>
#include <xsimd/xsimd.hpp>

#include "convbook/conv/direct.hpp"
#include "convbook/conv/pointwise.hpp"
#include "convbook/random.hpp"
#include "support/check.hpp"

using namespace convbook;

namespace {

using T = double;
constexpr double kTolerance = 1e-12;

#include "direct_checks.hpp"

}  // namespace
