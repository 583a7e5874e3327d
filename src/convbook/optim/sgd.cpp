#include "convbook/optim/sgd.hpp"

#include <cmath>

#include "convbook/error.hpp"

namespace convbook {

namespace {

void check_options(const SgdOptions& o) {
  if (!(o.lr >= 0) || !std::isfinite(o.lr)) {
    throw Error("SGD: lr=" + std::to_string(o.lr) + " must be a finite number >= 0");
  }
  if (!(o.momentum >= 0)) {
    throw Error("SGD: momentum=" + std::to_string(o.momentum) + " must be >= 0");
  }
  if (!(o.weight_decay >= 0)) {
    throw Error("SGD: weight_decay=" + std::to_string(o.weight_decay) + " must be >= 0");
  }
  if (o.nesterov && (o.momentum <= 0 || o.dampening != 0)) {
    throw Error("SGD: nesterov needs momentum > 0 and dampening = 0, got momentum=" +
                std::to_string(o.momentum) + " dampening=" + std::to_string(o.dampening));
  }
}

}  // namespace

SGD::SGD(Module& model, const SgdOptions& options) : options_(options) {
  check_options(options_);
  model.visit_parameters([this](const std::string& name, Parameter& p) {
    if (!p.is_buffer) slots_.push_back({name, &p, Tensor(), false});
  });
}

SGD::SGD(std::vector<std::pair<std::string, Parameter*>> params, const SgdOptions& options)
    : options_(options) {
  check_options(options_);
  for (auto& [name, p] : params) {
    if (!p->is_buffer) slots_.push_back({name, p, Tensor(), false});
  }
}

void SGD::set_lr(double lr) {
  if (!(lr >= 0) || !std::isfinite(lr)) {
    throw Error("SGD::set_lr: lr=" + std::to_string(lr) + " must be a finite number >= 0");
  }
  options_.lr = lr;
}

void SGD::zero_grad() {
  for (Slot& s : slots_) s.param->zero_grad();
}

void SGD::step() {
  const Scalar lr = Scalar(options_.lr), mu = Scalar(options_.momentum);
  const Scalar wd = Scalar(options_.weight_decay), damp = Scalar(options_.dampening);
  for (Slot& s : slots_) {
    Scalar* w = s.param->value.data();
    const Scalar* grad = s.param->grad.data();
    const std::size_t n = s.param->value.size();
    if (mu != 0 && !s.has_buffer) {
      s.momentum_buffer = zeros(shape_of(s.param->value));
    }
    Scalar* buf = mu != 0 ? s.momentum_buffer.data() : nullptr;
    const bool first = !s.has_buffer;
    //! [sgd-step]
    // torch.optim.SGD, one parameter, elementwise:
    //   g = grad + wd * w                      (weight decay is an L2 term's gradient)
    //   b = g on the first step, else mu * b + (1 - dampening) * g
    //   g = g + mu * b if nesterov, else b     (Nesterov looks one step ahead)
    //   w = w - lr * g
    for (std::size_t i = 0; i < n; ++i) {
      Scalar g = grad[i] + wd * w[i];
      if (mu != 0) {
        buf[i] = first ? g : mu * buf[i] + (Scalar(1) - damp) * g;
        g = options_.nesterov ? g + mu * buf[i] : buf[i];
      }
      w[i] -= lr * g;
    }
    //! [sgd-step]
    if (mu != 0) s.has_buffer = true;
  }
  ++steps_;
}

std::vector<std::pair<std::string, const Tensor*>> SGD::state() const {
  std::vector<std::pair<std::string, const Tensor*>> out;
  for (const Slot& s : slots_) {
    if (s.has_buffer) out.emplace_back(s.name + ".momentum_buffer", &s.momentum_buffer);
  }
  return out;
}

void SGD::load_state(const std::string& name, const std::vector<double>& values) {
  const std::string suffix = ".momentum_buffer";
  for (Slot& s : slots_) {
    if (s.name + suffix != name) continue;
    if (values.size() != s.param->value.size()) {
      throw Error("SGD::load_state: '" + name + "' has " + std::to_string(values.size()) +
                  " values, expected " + std::to_string(s.param->value.size()));
    }
    s.momentum_buffer = zeros(shape_of(s.param->value));
    for (std::size_t i = 0; i < values.size(); ++i) s.momentum_buffer.data()[i] = Scalar(values[i]);
    s.has_buffer = true;
    return;
  }
  throw Error("SGD::load_state: '" + name + "' matches no optimized parameter");
}

}  // namespace convbook
