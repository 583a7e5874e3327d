// Your answers to chapter 00's exercises (see README.md). Replace each throw with your code,
// then run `make exercise CH=00 EXERCISES=stub` (or configure with -DCONVBOOK_EXERCISES=stub).
#include "exercise.hpp"

#include "convbook/error.hpp"

namespace convbook::ex00 {

void batchnorm2d_backward_train(const std::vector<float>& /*x*/,
                                const std::vector<float>& /*gamma*/,
                                const std::vector<float>& /*dy*/, std::size_t /*N*/,
                                std::size_t /*C*/, std::size_t /*H*/, std::size_t /*W*/,
                                double /*eps*/, std::vector<float>& /*dx*/,
                                std::vector<float>& /*dgamma*/, std::vector<float>& /*dbeta*/) {
  throw convbook::Error("exercise 00.1 (batchnorm2d_backward_train): not implemented yet");
}

std::vector<float> cross_entropy_backward(const std::vector<float>& /*logits*/,
                                          const std::vector<int>& /*labels*/, std::size_t /*N*/,
                                          std::size_t /*K*/, double /*label_smoothing*/) {
  throw convbook::Error("exercise 00.2 (cross_entropy_backward): not implemented yet");
}

std::vector<float> maxpool2d_backward(const std::vector<float>& /*x*/,
                                      const std::vector<float>& /*dy*/, std::size_t /*N*/,
                                      std::size_t /*C*/, std::size_t /*H*/, std::size_t /*W*/,
                                      std::size_t /*kernel*/, std::size_t /*stride*/,
                                      std::size_t /*padding*/) {
  throw convbook::Error("exercise 00.3 (maxpool2d_backward): not implemented yet");
}

void sgd_step(std::vector<float>& /*w*/, const std::vector<float>& /*grad*/,
              std::vector<float>& /*momentum_buffer*/, bool /*first_step*/, double /*lr*/,
              double /*momentum*/, double /*weight_decay*/, bool /*nesterov*/) {
  throw convbook::Error("exercise 00.4 (sgd_step): not implemented yet");
}

}  // namespace convbook::ex00
