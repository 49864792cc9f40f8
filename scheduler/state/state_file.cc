#include "scheduler/state/state_file.h"

#include <vector>

#include <simdjson.h>

#include "common/k8s/decode.h"
#include "common/util/file.h"
#include "scheduler/wire/extender_args.h"

namespace epc {

namespace od = simdjson::ondemand;

Result<StateFileSummary> LoadStateJson(std::string_view json, std::string_view source,
                                       ClusterStore& store) {
  const std::string where(source);
  auto fail = [&](const std::string& message) { return Error{where + ": " + message}; };
  auto not_json = [&](simdjson::error_code e) {
    return fail(std::string("not JSON: ") + simdjson::error_message(e));
  };

  simdjson::padded_string text(json);
  od::parser parser;
  od::document doc;
  if (auto e = parser.iterate(text).get(doc)) return not_json(e);
  od::object root;
  if (auto e = doc.get_object().get(root)) {
    return e == simdjson::INCORRECT_TYPE
               ? fail("must be a JSON object {\"nodes\": [...], \"pods\": [...]}")
               : not_json(e);
  }

  std::vector<Node> nodes;
  std::vector<Pod> pods;
  for (auto field_result : root) {
    od::field field;
    if (auto e = std::move(field_result).get(field)) return not_json(e);
    std::string_view key;
    if (auto e = field.unescaped_key().get(key)) return not_json(e);
    bool is_nodes = KeyIs(key, "nodes");
    if (!is_nodes && !KeyIs(key, "pods")) {
      return fail("unknown key \"" + std::string(key) + "\"; expected \"nodes\" and \"pods\"");
    }
    const std::string list(is_nodes ? "nodes" : "pods");
    od::array items;
    if (auto e = field.value().get_array().get(items)) {
      return e == simdjson::INCORRECT_TYPE ? fail("\"" + list + "\" must be an array")
                                           : not_json(e);
    }
    size_t index = 0;
    for (auto item_result : items) {
      od::value item;
      if (auto e = std::move(item_result).get(item)) return not_json(e);
      std::string at = list + "[" + std::to_string(index++) + "]";
      od::json_type type;
      if (auto e = item.type().get(type)) return not_json(e);
      if (type != od::json_type::object) return fail(at + " must be an object");
      if (is_nodes) {
        NodeDecodeResult node = DecodeNode(item);
        if (!node.error.empty()) {
          if (!node.node.name.empty()) at += " (\"" + node.node.name + "\")";
          return fail(at + ": " + node.error);
        }
        if (node.node.name.empty()) return fail(at + ": metadata.name is missing");
        nodes.push_back(std::move(node.node));
      } else {
        Result<Pod> pod = DecodePod(item);
        if (!pod) return fail(at + ": " + pod.error());
        if (pod->uid.empty())
          return fail(at + " (\"" + pod->namespace_name + "/" + pod->name +
                      "\"): metadata.uid is missing");
        pods.push_back(std::move(pod).value());
      }
    }
  }

  StateFileSummary summary;
  for (Node& node : nodes) {
    store.UpsertNode(std::move(node));
    ++summary.nodes;
  }
  for (const Pod& pod : pods) {
    store.UpsertPod(pod);
    ++summary.pods;
  }
  summary.all_pods = std::move(pods);
  return summary;
}

Result<StateFileSummary> LoadStateFile(const std::string& path, ClusterStore& store) {
  Result<std::string> text = ReadWholeFile(path);
  if (!text) return Error{path + ": cannot open the state file: " + text.error()};
  return LoadStateJson(*text, path, store);
}

}  // namespace epc
