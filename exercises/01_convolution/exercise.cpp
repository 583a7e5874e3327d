// Chapter 01 exercises: your answers. Replace each throw with your code, then run
// `make exercise CH=01`. The statements are in README.md and exercise.hpp.
#include "exercise.hpp"

#include "convbook/error.hpp"

namespace convbook::ex01 {

std::size_t conv_output_size(std::size_t /*in*/, std::size_t /*kernel*/, std::size_t /*stride*/,
                             std::size_t /*padding*/, std::size_t /*dilation*/) {
  throw convbook::Error("exercise 01.1 (conv_output_size): not implemented yet");
}

std::vector<float> col2im(const ConvGeometry& /*g*/, const std::vector<float>& /*col*/) {
  throw convbook::Error("exercise 01.2 (col2im): not implemented yet");
}

std::vector<float> conv2d_backward_weight(const ConvGeometry& /*g*/,
                                          const std::vector<float>& /*x*/,
                                          const std::vector<float>& /*dy*/) {
  throw convbook::Error("exercise 01.3 (conv2d_backward_weight): not implemented yet");
}

std::array<float, 2> winograd_f2x3_1d(const std::array<float, 4>& /*d*/,
                                      const std::array<float, 3>& /*g*/) {
  throw convbook::Error("exercise 01.4 (winograd_f2x3_1d): not implemented yet");
}

std::vector<float> pack_a_sliver(bool /*trans_a*/, const std::vector<float>& /*A*/, int /*lda*/,
                                 int /*M*/, int /*i0*/, int /*p0*/, int /*kc*/, int /*mr*/) {
  throw convbook::Error("exercise 01.5 (pack_a_sliver): not implemented yet");
}

std::vector<float> depthwise3x3_by_rows(int /*H*/, int /*W*/, const std::vector<float>& /*x*/,
                                        const std::array<float, 9>& /*w*/) {
  throw convbook::Error("exercise 01.6 (depthwise3x3_by_rows): not implemented yet");
}

std::array<float, 9> depthwise3x3_weight_grad_by_rows(int /*H*/, int /*W*/,
                                                      const std::vector<float>& /*x*/,
                                                      const std::vector<float>& /*dy*/) {
  throw convbook::Error("exercise 01.6 (depthwise3x3_weight_grad_by_rows): not implemented yet");
}

}  // namespace convbook::ex01
