// Chapter 01: the grouped kernel in double, against the seven-loop reference on the same grid
// as test_grouped.cpp.
//
// Tolerance: in double the different order of the additions costs ~1e-16 per addition
// relative to the largest partial sum; the longest sums here (dw over N*P*Q, a few hundred
// terms) stay far below 1e-12 relative to the reference's largest value, which we require.
// A wrong index or a missed tap shows up as an error of order 1; what this program adds is
// that the double instantiation (xsimd::batch<double>, 8 lanes: other row tails and vector
// counts than float's 16) is exercised and agrees to double precision.
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <vector>

#include "convbook/conv/grouped.hpp"
#include "convbook/random.hpp"
#include "support/check.hpp"

using namespace convbook;

namespace {

using T = double;
constexpr double kTolerance = 1e-12;

#include "grouped_checks.hpp"

}  // namespace
