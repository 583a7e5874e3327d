#include "chapters/10_resnet/interop.hpp"

#include "convbook/conv/conv2d.hpp"
#include "convbook/error.hpp"
#include "convbook/io/safetensors.hpp"

namespace convbook {

Tensor read_single_tensor(const std::string& path) {
  const SafetensorsFile f = read_safetensors(path);
  if (f.tensors.size() != 1) {
    std::string keys;  // the first few are enough to recognize, say, a state_dict
    std::size_t listed = 0;
    for (const auto& [name, t] : f.tensors) {
      if (listed++ == 4) {
        keys += ", ... " + std::to_string(f.tensors.size() - 4) + " more";
        break;
      }
      keys += (keys.empty() ? "" : ", ") + name;
    }
    throw Error(path + ": holds " + std::to_string(f.tensors.size()) + " tensors" +
                (keys.empty() ? "" : " (" + keys + ")") +
                ", expected exactly one, the input batch (N, C, H, W)");
  }
  const auto& [name, t] = *f.tensors.begin();
  if (t.shape.size() != 4) {
    throw Error(path + ": tensor '" + name + "' has shape " + to_string(t.shape) + " (rank " +
                std::to_string(t.shape.size()) + "), expected rank 4: (N, C, H, W)");
  }
  return to_tensor(t);
}

std::size_t input_channels(Module& m) {
  if (auto* conv = dynamic_cast<Conv2d*>(&m)) return conv->options().in_channels();
  for (const auto& [name, child] : m.children()) {
    if (const std::size_t c = input_channels(*child); c != 0) return c;
  }
  return 0;
}

Tensor forward_eval(Module& m, const Tensor& x) {
  const std::size_t C = input_channels(m);
  if (C != 0 && x.shape()[1] != C) {
    throw Error("input of shape " + to_string(shape_of(x)) + " has " +
                std::to_string(x.shape()[1]) + " channels, the model expects " + std::to_string(C) +
                " (N, " + std::to_string(C) + ", H, W)");
  }
  m.eval();
  const NoGradGuard no_grad;
  return m.forward(x);
}

void write_output(const std::string& path, const Tensor& y) {
  const Shape s = shape_of(y);
  std::vector<std::size_t> shape(s.begin(), s.end());
  if (s[2] == 1 && s[3] == 1) shape = {s[0], s[1]};  // logits, as PyTorch returns them
  write_safetensors(path, {{"output", from_tensor(y, shape)}});
}

}  // namespace convbook
