#include "actors/hotkey/core/rule_matcher.hpp"

#include <algorithm>

namespace shoal::hotkey {

rule_matcher::rule_matcher(std::vector<hotkey_rule> rules)
    : rules_(std::move(rules)), any_(rules_.size()) {
  for (size_t i = 0; i < rules_.size(); ++i) {
    auto& rule = rules_[i];
    switch (rule.kind) {
    case match_kind::exact:
      exact_.emplace(rule.pattern, i);
      break;
    case match_kind::any:
      if (any_ == rules_.size())
        any_ = i;
      break;
    case match_kind::prefix: {
      auto len = rule.pattern.size();
      auto group = std::find_if(prefixes_.begin(), prefixes_.end(),
                                [len](auto& g) { return g.length == len; });
      if (group == prefixes_.end()) {
        prefixes_.push_back(prefix_group{len, {}});
        group = prefixes_.end() - 1;
      }
      group->rules.emplace(rule.pattern, i);
      break;
    }
    }
  }
  std::sort(prefixes_.begin(), prefixes_.end(),
            [](auto& a, auto& b) { return a.length > b.length; });
}

const hotkey_rule* rule_matcher::match(std::string_view key) const {
  if (auto i = exact_.find(key); i != exact_.end())
    return &rules_[i->second];
  for (auto& group : prefixes_) {
    if (group.length > key.size())
      continue;
    if (auto i = group.rules.find(key.substr(0, group.length)); i != group.rules.end())
      return &rules_[i->second];
  }
  return any_ < rules_.size() ? &rules_[any_] : nullptr;
}

} // namespace shoal::hotkey
