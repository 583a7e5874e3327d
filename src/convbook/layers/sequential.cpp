#include "convbook/layers/sequential.hpp"

#include "convbook/error.hpp"

namespace convbook {

void Sequential::push_back(ModulePtr m) {
  add(std::to_string(layers_.size()), std::move(m));
}

void Sequential::add(const std::string& name, ModulePtr m) {
  if (!m) throw Error("Sequential: child '" + name + "' is null, expected a module");
  if (name.empty() || name.find('.') != std::string::npos) {
    throw Error("Sequential: child name '" + name + "' must be non-empty and contain no '.'");
  }
  for (const auto& [existing, child] : children()) {
    if (existing == name) throw Error("Sequential: a child named '" + name + "' already exists");
  }
  register_module(name, m.get());
  m->train(training_);
  layers_.push_back(std::move(m));
}

Module& Sequential::operator[](std::size_t i) {
  if (i >= layers_.size()) {
    throw Error("Sequential: index " + std::to_string(i) + " out of range, size is " +
                std::to_string(layers_.size()));
  }
  return *layers_[i];
}

//! [sequential]
Tensor Sequential::forward(const Tensor& x) {
  if (layers_.empty()) return x;
  Tensor h = layers_.front()->forward(x);  // not `h = x` first: a copy of x is a wasted pass
  for (std::size_t i = 1; i < layers_.size(); ++i) h = layers_[i]->forward(h);
  return h;
}

Tensor Sequential::backward(const Tensor& dy) {
  // y = f_L(...f_1(x)): dL/dx = J_1^T ... J_L^T dy, applied from the last layer back
  if (layers_.empty()) return dy;
  Tensor g = layers_.back()->backward(dy);
  for (auto it = layers_.rbegin() + 1; it != layers_.rend(); ++it) g = (*it)->backward(g);
  return g;
}
//! [sequential]

std::string Sequential::repr() const {
  if (layers_.empty()) return "Sequential()";
  std::string s = "Sequential(\n";
  for (const auto& [name, child] : children()) {
    std::string line = child->repr();
    // indent nested multi-line reprs like PyTorch's _addindent
    std::string indented;
    for (char ch : line) {
      indented += ch;
      if (ch == '\n') indented += "  ";
    }
    s += "  (" + name + "): " + indented + "\n";
  }
  return s + ")";
}

}  // namespace convbook
