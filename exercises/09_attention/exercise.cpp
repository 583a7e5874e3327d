// Chapter 09 exercises: your answers. Replace each throw with your code, then run
// `make exercise CH=09`. The statements are in README.md and exercise.hpp.
#include "exercise.hpp"

#include "convbook/error.hpp"

namespace convbook::ex09 {

ProductGrads channel_product_backward(const std::vector<float>& /*x*/,
                                      const std::vector<float>& /*s*/,
                                      const std::vector<float>& /*dy*/, std::size_t /*N*/,
                                      std::size_t /*C*/, std::size_t /*L*/) {
  throw convbook::Error("exercise 09.1 (channel_product_backward): not implemented yet");
}

std::vector<float> se_input_gradient(const std::vector<float>& /*s*/,
                                     const std::vector<float>& /*dy*/,
                                     const std::vector<float>& /*dz*/, std::size_t /*N*/,
                                     std::size_t /*C*/, std::size_t /*L*/) {
  throw convbook::Error("exercise 09.1 (se_input_gradient): not implemented yet");
}

std::vector<float> rsoftmax(const std::vector<float>& /*x*/, std::size_t /*N*/, std::size_t /*G*/,
                            std::size_t /*R*/, std::size_t /*J*/) {
  throw convbook::Error("exercise 09.2 (rsoftmax): not implemented yet");
}

std::vector<float> rsoftmax_backward(const std::vector<float>& /*y*/,
                                     const std::vector<float>& /*dy*/, std::size_t /*N*/,
                                     std::size_t /*G*/, std::size_t /*R*/, std::size_t /*J*/) {
  throw convbook::Error("exercise 09.2 (rsoftmax_backward): not implemented yet");
}

std::vector<float> channel_pool_backward(const std::vector<float>& /*x*/,
                                         const std::vector<float>& /*dout*/, std::size_t /*N*/,
                                         std::size_t /*C*/, std::size_t /*L*/) {
  throw convbook::Error("exercise 09.3 (channel_pool_backward): not implemented yet");
}

Cost se_cost(std::size_t /*C*/, std::size_t /*r*/, std::size_t /*H*/, std::size_t /*W*/) {
  throw convbook::Error("exercise 09.4 (se_cost): not implemented yet");
}

Cost cbam_cost(std::size_t /*C*/, std::size_t /*r*/, std::size_t /*k*/, std::size_t /*H*/,
               std::size_t /*W*/) {
  throw convbook::Error("exercise 09.4 (cbam_cost): not implemented yet");
}

SelectGrads select_backward(const std::vector<float>& /*u*/, const std::vector<float>& /*a*/,
                            const std::vector<float>& /*dv*/, std::size_t /*N*/, std::size_t /*R*/,
                            std::size_t /*C*/, std::size_t /*L*/) {
  throw convbook::Error("exercise 09.5 (select_backward): not implemented yet");
}

}  // namespace convbook::ex09
