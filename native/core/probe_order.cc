// Shuffled round-robin probe order (see probe.h).
#include <utility>

#include "core/probe.h"

namespace constellation::core {

void ProbeOrder::add(uint32_t member, Rng& rng) {
  order_.push_back(member);
  // Swap into a random position among the members not yet probed this round (SWIM §4.3).
  const size_t remaining = order_.size() - cursor_;
  if (remaining > 1) {
    const size_t pos = cursor_ + static_cast<size_t>(rng.below(remaining));
    std::swap(order_[pos], order_.back());
  }
}

void ProbeOrder::shuffle(Rng& rng) {
  for (size_t i = order_.size(); i > 1; --i) {
    const size_t j = static_cast<size_t>(rng.below(i));
    std::swap(order_[i - 1], order_[j]);
  }
}

void ProbeOrder::remap(const std::vector<uint32_t>& remap) {
  size_t out = 0;
  size_t cursor = cursor_;
  for (size_t in = 0; in < order_.size(); ++in) {
    const uint32_t index = remap[order_[in]];
    if (index == kNoIndex) {
      if (in < cursor_) --cursor;
      continue;
    }
    order_[out++] = index;
  }
  order_.resize(out);
  cursor_ = cursor;
}

}  // namespace constellation::core
