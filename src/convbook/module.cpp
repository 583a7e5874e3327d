#include "convbook/module.hpp"

#include "convbook/error.hpp"

namespace convbook {

namespace {
Shape storage_shape(const std::vector<std::size_t>& shape) {
  if (shape.empty() || shape.size() > 4) {
    throw Error("Parameter: expected 1 to 4 dimensions, got " + std::to_string(shape.size()));
  }
  Shape s = {1, 1, 1, 1};
  for (std::size_t i = 0; i < shape.size(); ++i) s[i] = shape[i];
  return s;
}
}  // namespace

Parameter Parameter::make(std::vector<std::size_t> shape) {
  Parameter p;
  p.value = zeros(storage_shape(shape));
  p.grad = zeros(storage_shape(shape));
  p.shape = std::move(shape);
  return p;
}

Parameter Parameter::make_buffer(std::vector<std::size_t> shape) {
  Parameter p;
  p.value = zeros(storage_shape(shape));
  p.shape = std::move(shape);
  p.is_buffer = true;
  return p;
}

void Parameter::zero_grad() {
  if (!is_buffer) grad.fill(Scalar(0));
}

double Module::flops() const {
  double total = 0;
  for (const auto& [name, child] : children_) total += child->flops();
  return total;
}

void Module::visit_parameters(const ParamVisitor& f, const std::string& prefix) {
  for (auto& [name, p] : params_) f(prefix + name, *p);
  for (auto& [name, child] : children_) child->visit_parameters(f, prefix + name + ".");
}

void Module::train(bool on) {
  training_ = on;
  for (auto& [name, child] : children_) child->train(on);
}

void Module::zero_grad() {
  visit_parameters([](const std::string&, Parameter& p) { p.zero_grad(); });
}

std::size_t Module::num_parameters() {
  std::size_t n = 0;
  visit_parameters([&n](const std::string&, Parameter& p) {
    if (!p.is_buffer) n += p.numel();
  });
  return n;
}

void Module::register_parameter(const std::string& name, Parameter* p) {
  params_.emplace_back(name, p);
}

void Module::register_module(const std::string& name, Module* child) {
  children_.emplace_back(name, child);
}

namespace {
bool grad_mode = true;  // forward runs on the caller's thread only, never inside a parallel region
}  // namespace

bool grad_enabled() { return grad_mode; }

NoGradGuard::NoGradGuard() : previous_(grad_mode) { grad_mode = false; }

NoGradGuard::~NoGradGuard() { grad_mode = previous_; }

}  // namespace convbook
