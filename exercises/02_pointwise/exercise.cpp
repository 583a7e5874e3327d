// Chapter 02 exercises: your answers. Replace each throw with your code, then run
// `make exercise CH=02`. The statements are in README.md and exercise.hpp.
#include "exercise.hpp"

#include "convbook/error.hpp"

namespace convbook::ex02 {

std::vector<float> conv1x1_as_matmul(const std::vector<float>& /*x*/,
                                     const std::vector<float>& /*w*/,
                                     const std::vector<float>& /*b*/, std::size_t /*N*/,
                                     std::size_t /*C*/, std::size_t /*H*/, std::size_t /*W*/,
                                     std::size_t /*K*/) {
  throw convbook::Error("exercise 02.1 (conv1x1_as_matmul): not implemented yet");
}

Cost nin_block_cost(const NiNBlockOptions& /*options*/, std::size_t /*H*/, std::size_t /*W*/) {
  throw convbook::Error("exercise 02.2 (nin_block_cost): not implemented yet");
}

std::vector<float> global_avg_pool_backward(const std::vector<float>& /*dy*/, std::size_t /*N*/,
                                            std::size_t /*C*/, std::size_t /*H*/,
                                            std::size_t /*W*/) {
  throw convbook::Error("exercise 02.3 (global_avg_pool_backward): not implemented yet");
}

}  // namespace convbook::ex02
