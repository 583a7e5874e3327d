#include "convbook/profile.hpp"

#include "convbook/error.hpp"

namespace convbook {

Profiler* Profiler::active_ = nullptr;

Profiler::~Profiler() {
  stop();
}

void Profiler::start() {
  if (active_ == this) return;
  if (active_) throw Error("Profiler::start: another profiler is active, expected at most one");
  active_ = this;
}

void Profiler::stop() {
  if (active_ == this) active_ = nullptr;
}

ModuleTime Profiler::time_of(const Module* m) const {
  const auto it = times_.find(m);
  return it == times_.end() ? ModuleTime{} : it->second;
}

void Profiler::record(const Module* m, Pass pass, double seconds) {
  ModuleTime& t = times_[m];
  if (pass == Pass::forward) {
    t.forward_s += seconds;
    ++t.forward_calls;
  } else {
    t.backward_s += seconds;
    ++t.backward_calls;
  }
}

}  // namespace convbook
