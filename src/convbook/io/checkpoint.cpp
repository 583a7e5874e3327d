#include "convbook/io/checkpoint.hpp"

#include <sstream>
#include <vector>

#include "convbook/error.hpp"

namespace convbook {

namespace {

/// BatchNorm's counter: stored by PyTorch as a 0-d int64, held by convbook as a {1} buffer.
bool is_step_counter(const std::string& name, const Parameter& p) {
  const std::string suffix = "num_batches_tracked";
  return p.is_buffer && p.shape == std::vector<std::size_t>{1} && name.size() >= suffix.size() &&
         name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
}

/// All parameters of `m` by name; duplicate names would make a state_dict ambiguous.
std::map<std::string, Parameter*> parameters_by_name(Module& m) {
  std::map<std::string, Parameter*> params;
  m.visit_parameters([&](const std::string& name, Parameter& p) {
    if (!params.emplace(name, &p).second) {
      throw Error("state_dict: two parameters are both named \"" + name + "\"");
    }
  });
  return params;
}

}  // namespace

TensorMap state_dict(Module& m) {
  TensorMap out;
  for (const auto& [name, p] : parameters_by_name(m)) {
    StoredTensor t = from_tensor(p->value, p->shape);
    if (is_step_counter(name, *p)) {
      t.dtype = "I64";
      t.shape.clear();  // 0-d, as torch.nn.BatchNorm2d saves it
    }
    out.emplace(name, std::move(t));
  }
  return out;
}

void load_state_dict(Module& m, const TensorMap& tensors) {
  const std::map<std::string, Parameter*> params = parameters_by_name(m);
  std::vector<std::string> missing, unexpected, mismatched;
  for (const auto& [name, p] : params) {
    const auto it = tensors.find(name);
    if (it == tensors.end()) {
      missing.push_back(name);
      continue;
    }
    const std::vector<std::size_t>& found = it->second.shape;
    const bool ok = found == p->shape || (is_step_counter(name, *p) && found.empty());
    if (!ok) {
      mismatched.push_back(name + " (found " + to_string(found) + ", expected " +
                           to_string(p->shape) + ")");
    } else if (it->second.data.size() != p->numel()) {
      mismatched.push_back(name + " (found " + std::to_string(it->second.data.size()) +
                           " values, expected " + std::to_string(p->numel()) + ")");
    }
  }
  for (const auto& [name, t] : tensors) {
    if (!params.count(name)) unexpected.push_back(name);
  }

  if (!missing.empty() || !unexpected.empty() || !mismatched.empty()) {
    std::ostringstream msg;
    msg << "load_state_dict: the tensors do not match the model";
    auto list = [&msg](const char* title, const std::vector<std::string>& names) {
      if (names.empty()) return;
      msg << "; " << title << ": ";
      for (std::size_t i = 0; i < names.size(); ++i) msg << (i ? ", " : "") << names[i];
    };
    list("missing keys", missing);
    list("unexpected keys", unexpected);
    list("shape mismatches", mismatched);
    throw Error(msg.str());
  }

  // Everything matched: only now is the model touched, so a failed load changes nothing.
  for (const auto& [name, p] : params) {
    const StoredTensor& t = tensors.at(name);
    for (std::size_t i = 0; i < t.data.size(); ++i) p->value.data()[i] = Scalar(t.data[i]);
  }
}

void save_checkpoint(const std::string& path, Module& m,
                     const std::map<std::string, std::string>& metadata) {
  write_safetensors(path, state_dict(m), metadata);
}

std::map<std::string, std::string> load_checkpoint(const std::string& path, Module& m) {
  SafetensorsFile file = read_safetensors(path);
  try {
    load_state_dict(m, file.tensors);
  } catch (const Error& e) {
    throw Error("checkpoint '" + path + "': " + e.what());
  }
  return file.metadata;
}

}  // namespace convbook
