#include "protocol/topics.h"

#include <fmt/format.h>

namespace walrus::protocol {

std::string DlqTopic(std::string_view topic) {
  std::string t(topic);
  t.append(kDlqSuffix);
  return t;
}

bool IsDlqTopic(std::string_view topic) {
  return topic.size() > kDlqSuffix.size() && topic.ends_with(kDlqSuffix);
}

std::string MirrorPositionKey(std::string_view source_alias, std::string_view topic,
                              int32_t partition) {
  return fmt::format("{}{}", MirrorPositionKeyPrefix(source_alias, topic), partition);
}

std::string MirrorPositionKeyPrefix(std::string_view source_alias, std::string_view topic) {
  return fmt::format("{}/{}/", source_alias, topic);
}

std::string MirrorHoldKey(std::string_view position_key) {
  return fmt::format("{}{}", position_key, kMirrorHoldSuffix);
}

std::string MirrorDecisionKey(std::string_view position_key, int64_t at_ms) {
  return fmt::format("{}{}{}", position_key, kMirrorDecisionInfix, at_ms);
}

std::string MirrorClusterIdKey(std::string_view source_alias) {
  return fmt::format("{}{}", source_alias, kMirrorClusterIdSuffix);
}

std::string MirrorFlowName(std::string_view source_alias, std::string_view target_alias) {
  return fmt::format("{}:{}", source_alias, target_alias);
}

std::string MirrorTransactionalId(std::string_view source_alias, std::string_view target_alias,
                                  size_t worker) {
  std::string id = fmt::format("walrus-mirror.{}.{}", source_alias, target_alias);
  if (worker > 0) id += fmt::format(".{}", worker);
  return id;
}

}  // namespace walrus::protocol
