#include "scheduler/wire/extender_args.h"

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <system_error>
#include <thread>
#include <utility>

#include "common/util/name_hash.h"
#include "scheduler/wire/json_text.h"

namespace epc {

namespace od = simdjson::ondemand;

// ---------------------------------------------------------------------------------------------
// RequestBuffer

RequestBufferPool::Storage RequestBufferPool::Take(size_t capacity) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto best = kept_.end();
    for (auto it = kept_.begin(); it != kept_.end(); ++it) {
      if (it->capacity >= capacity && (best == kept_.end() || it->capacity < best->capacity))
        best = it;
    }
    if (best != kept_.end()) {
      Storage out = std::move(*best);
      kept_.erase(best);
      return out;
    }
  }
  return Storage{std::unique_ptr<char[]>(new char[capacity]), capacity};
}

void RequestBufferPool::Give(Storage storage) {
  if (!storage.data || storage.capacity < min_bytes_ || storage.capacity > max_bytes_) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (kept_.size() < max_buffers_) {
    kept_.push_back(std::move(storage));
    return;
  }
  auto smallest = std::min_element(kept_.begin(), kept_.end(), [](const auto& a, const auto& b) {
    return a.capacity < b.capacity;
  });
  if (smallest != kept_.end() && smallest->capacity < storage.capacity)
    *smallest = std::move(storage);
}

size_t RequestBufferPool::kept_bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  size_t total = 0;
  for (const Storage& s : kept_) total += s.capacity;
  return total;
}

RequestBuffer::~RequestBuffer() { Release({std::move(data_), capacity_}); }

void RequestBuffer::Release(RequestBufferPool::Storage storage) {
  if (pool_ != nullptr) pool_->Give(std::move(storage));
}

void RequestBuffer::Grow(size_t capacity) {
  RequestBufferPool::Storage bigger =
      pool_ != nullptr && capacity >= pool_->min_bytes()
          ? pool_->Take(capacity)
          : RequestBufferPool::Storage{std::unique_ptr<char[]>(new char[capacity]), capacity};
  if (size_ > 0) std::memcpy(bigger.data.get(), data_.get(), size_);
  Release({std::move(data_), capacity_});
  data_ = std::move(bigger.data);
  capacity_ = bigger.capacity;
}

void RequestBuffer::Reserve(size_t size) {
  if (capacity_ < size + simdjson::SIMDJSON_PADDING) Grow(size + simdjson::SIMDJSON_PADDING);
}

void RequestBuffer::Append(const char* data, size_t size) {
  if (size == 0) return;
  size_t need = size_ + size + simdjson::SIMDJSON_PADDING;
  // Grow geometrically so a body read in many chunks without a Content-Length stays linear.
  if (capacity_ < need) Grow(std::max(need, capacity_ * 2));
  std::memcpy(data_.get() + size_, data, size);
  size_ += size;
}

simdjson::padded_string_view RequestBuffer::View() {
  Reserve(size_);
  // The padding must not look like more JSON to a parser that peeks past the end. Only the
  // padding: a kept buffer may be much larger than this body.
  std::memset(data_.get() + size_, 0, simdjson::SIMDJSON_PADDING);
  return simdjson::padded_string_view(data_.get(), size_, size_ + simdjson::SIMDJSON_PADDING);
}

// ---------------------------------------------------------------------------------------------
// Helpers

bool KeyIs(std::string_view key, std::string_view name) {
  if (key.size() != name.size()) return false;
  for (size_t i = 0; i < key.size(); ++i) {
    char a = key[i];
    char b = name[i];
    if (a >= 'A' && a <= 'Z') a = static_cast<char>(a - 'A' + 'a');
    if (b >= 'A' && b <= 'Z') b = static_cast<char>(b - 'A' + 'a');
    if (a != b) return false;
  }
  return true;
}

namespace {

// The document parser's buffers grow to the largest request it saw (up to about 6 bytes per
// input byte). Small requests use one parser per thread. Large ones (full-mode filter for
// thousands of nodes) lease from a shared pool of two: kube-scheduler filters one pod at a time,
// and DecodeFullModeArgsInParts parses such a body on two threads at once, so the big
// requests reuse two parsers' buffers instead of page-faulting fresh ones, and no worker thread
// pins that much memory. Past kPooledParserMaxBytes a parser is not kept.
constexpr size_t kThreadParserBytes = 4u << 20;
constexpr size_t kPooledParsers = 2;
constexpr size_t kPooledParserMaxBytes = 64u << 20;

class ParserPool {
 public:
  std::unique_ptr<od::parser> Take() {
    std::lock_guard<std::mutex> lock(mu_);
    if (free_.empty()) return std::make_unique<od::parser>();
    std::unique_ptr<od::parser> p = std::move(free_.back());
    free_.pop_back();
    return p;
  }
  void Give(std::unique_ptr<od::parser> p) {
    if (p->capacity() > kPooledParserMaxBytes) return;
    std::lock_guard<std::mutex> lock(mu_);
    if (free_.size() < kPooledParsers) free_.push_back(std::move(p));
  }

 private:
  std::mutex mu_;
  std::vector<std::unique_ptr<od::parser>> free_;
};

ParserPool& BigParsers() {
  static ParserPool* pool = new ParserPool();  // never destroyed: used from worker threads
  return *pool;
}

od::parser& DocumentParser() {
  thread_local od::parser parser;
  return parser;
}

class ParserLease {
 public:
  // `pooled`: from the pool whatever the size, for a thread that lives for one request (a
  // thread's own parser would be built afresh for each).
  explicit ParserLease(size_t size, bool pooled = false) {
    if (pooled || size > kThreadParserBytes) {
      owned_ = BigParsers().Take();
      parser_ = owned_.get();
    } else {
      parser_ = &DocumentParser();
    }
  }
  ~ParserLease() {
    if (owned_) BigParsers().Give(std::move(owned_));
  }
  ParserLease(const ParserLease&) = delete;
  ParserLease& operator=(const ParserLease&) = delete;
  od::parser& operator*() { return *parser_; }

 private:
  std::unique_ptr<od::parser> owned_;
  od::parser* parser_;
};

std::string NotJson(simdjson::error_code e) {
  return std::string("request body is not JSON: ") + simdjson::error_message(e);
}

// INCORRECT_TYPE means well-formed JSON of the wrong shape: say what was expected. Anything
// else is malformed JSON.
Error Bad(simdjson::error_code e, std::string_view expected) {
  if (e == simdjson::INCORRECT_TYPE || e == simdjson::NUMBER_OUT_OF_RANGE ||
      e == simdjson::NUMBER_ERROR) {
    return Error{std::string(expected)};
  }
  return Error{NotJson(e)};
}

std::string Quote(std::string_view name) {
  std::string out;
  out.reserve(name.size() + 2);
  out += '"';
  out += name;
  out += '"';
  return out;
}

// Starts a document whose root must be an object.
Result<od::object> RootObject(od::parser& parser, simdjson::padded_string_view body,
                              od::document& doc) {
  if (TrimJsonSpaceRight(std::string_view(body)).empty())
    return Error{"request body is empty; expected a JSON object"};
  if (auto e = parser.iterate(body).get(doc)) return Error{NotJson(e)};
  od::json_type type;
  if (auto e = doc.type().get(type)) return Error{NotJson(e)};
  if (type != od::json_type::object) {
    // Only a scalar that really is one is well-formed JSON of the wrong kind.
    simdjson::error_code e = simdjson::SUCCESS;
    switch (type) {
      case od::json_type::string:
        e = doc.get_string().error();
        break;
      case od::json_type::number:
        e = doc.get_double().error();
        break;
      case od::json_type::boolean:
        e = doc.get_bool().error();
        break;
      case od::json_type::null: {
        bool null = false;
        e = doc.is_null().get(null);
        if (!e && !null) e = simdjson::N_ATOM_ERROR;
        break;
      }
      default:
        break;
    }
    if (e) return Error{NotJson(e)};
    return Error{std::string("request body must be a JSON object, not ") +
                 (type == od::json_type::array ? "an array" : "a scalar")};
  }
  od::object root;
  if (auto e = doc.get_object().get(root)) return Error{NotJson(e)};
  return root;
}

// After the root object was read to its end, anything but whitespace is an error.
Result<bool> CheckEnd(od::document& doc) {
  const char* where = nullptr;
  auto e = doc.current_location().get(where);
  if (e == simdjson::OUT_OF_BOUNDS) return true;
  if (e) return Error{NotJson(e)};
  return Error{"request body is not JSON: unexpected content after the top-level object"};
}

// Reads `body`, which must be one JSON object: calls on_field(key, value) for each of its
// fields in order (an error it returns ends the read), then checks that nothing follows.
// `pooled_parser` as for ParserLease.
template <typename OnField>
Result<bool> ForEachRootField(simdjson::padded_string_view body, OnField&& on_field,
                              bool pooled_parser = false) {
  ParserLease parser(body.size(), pooled_parser);
  od::document doc;
  Result<od::object> root = RootObject(*parser, body, doc);
  if (!root) return Error{root.error()};
  for (auto field_result : root.value()) {
    od::field field;
    if (auto e = std::move(field_result).get(field)) return Error{NotJson(e)};
    std::string_view key;
    if (auto e = field.unescaped_key().get(key)) return Error{NotJson(e)};
    if (Result<bool> r = on_field(key, field.value()); !r) return r;
  }
  return CheckEnd(doc);
}

// A nullable value: true when it is JSON null (and so consumed).
Result<bool> IsNull(od::value& v) {
  bool null = false;
  if (auto e = v.is_null().get(null)) return Error{NotJson(e)};
  return null;
}

Result<std::string> NullableString(od::value& v, std::string_view name) {
  auto null = IsNull(v);
  if (!null) return Error{null.error()};
  if (*null) return std::string();
  std::string_view s;
  if (auto e = v.get_string().get(s)) return Bad(e, Quote(name) + " must be a string");
  return std::string(s);
}

Result<int64_t> NullableInt(od::value& v, std::string_view name) {
  auto null = IsNull(v);
  if (!null) return Error{null.error()};
  if (*null) return int64_t{0};
  int64_t n = 0;
  if (auto e = v.get_int64().get(n)) return Bad(e, Quote(name) + " must be an integer");
  return n;
}

Result<Pod> DecodePodField(od::value& v) {
  auto null = IsNull(v);
  if (!null) return Error{null.error()};
  if (*null) return Error{"\"Pod\" is null; the request must carry the pod to schedule"};
  od::json_type type;
  if (auto e = v.type().get(type)) return Error{NotJson(e)};
  if (type != od::json_type::object) return Error{"\"Pod\" must be an object (a v1.Pod)"};
  Result<Pod> pod = DecodePod(v);
  if (!pod) return Error{"\"Pod\": " + pod.error()};
  return pod;
}

// The root field "Pod" of the filter, prioritize and preempt bodies, decoded into `pod`; the
// caller checks `have_pod` once the body is read (kPodMissing).
Result<bool> ReadPodField(od::value& v, Pod& pod, bool& have_pod) {
  Result<Pod> decoded = DecodePodField(v);
  if (!decoded) return Error{decoded.error()};
  pod = std::move(decoded).value();
  have_pod = true;
  return true;
}
constexpr std::string_view kPodMissing = "\"Pod\" is missing";

// Decodes one item of Nodes.items in place, in the pass over the whole body, and takes its text
// as received: from the item's first token to where the iterator stands once the decoder has
// read the item to its end (the next ',' or ']'), less whitespace. One structural pass over the
// body, not a second parse of every item's text.
Result<WireNode> DecodeNodeItem(od::value& item, size_t index, const NodeProjection& projection) {
  od::json_type type;
  if (auto e = item.type().get(type)) return Error{NotJson(e)};
  if (type != od::json_type::object) {
    return Bad(simdjson::INCORRECT_TYPE,
               "\"Nodes.items[" + std::to_string(index) + "]\" must be an object (a v1.Node)");
  }
  const char* begin = item.raw_json_token().data();
  WireNode node;
  node.decoded = DecodeNode(item, projection);
  // Broken JSON inside an item is a broken request, not a node to fail.
  if (node.decoded.error.find("invalid JSON") != std::string::npos) {
    return Error{"request body is not JSON: Nodes.items[" + std::to_string(index) +
                 "]: " + node.decoded.error};
  }
  const char* end = nullptr;
  if (auto e = item.current_location().get(end)) return Error{NotJson(e)};
  node.raw = TrimJsonSpaceRight(std::string_view(begin, static_cast<size_t>(end - begin)));
  // The decoder reads every object it enters to its end, so the text is the whole object.
  if (node.raw.size() < 2 || node.raw.front() != '{' || node.raw.back() != '}') {
    return Error{"request body is not JSON: Nodes.items[" + std::to_string(index) +
                 "] is not a complete object"};
  }
  return node;
}

// Decodes every element of an array of v1.Node objects (DecodeNodeItem) onto the end of
// `nodes`. An error ends it.
Result<bool> AppendNodeItems(od::array& items, const NodeProjection& projection,
                             std::vector<WireNode>& nodes) {
  size_t index = 0;
  for (auto item_result : items) {
    od::value item;
    if (auto e = std::move(item_result).get(item)) return Error{NotJson(e)};
    Result<WireNode> node = DecodeNodeItem(item, index++, projection);
    if (!node) return Error{node.error()};
    nodes.push_back(std::move(node).value());
  }
  return true;
}

Result<std::optional<std::vector<WireNode>>> DecodeNodeList(od::value& v,
                                                            const NodeProjection& projection) {
  auto null = IsNull(v);
  if (!null) return Error{null.error()};
  if (*null) return std::optional<std::vector<WireNode>>();
  od::object list;
  if (auto e = v.get_object().get(list))
    return Bad(e, "\"Nodes\" must be an object (a v1.NodeList) or null");
  std::vector<WireNode> nodes;
  for (auto field_result : list) {
    od::field field;
    if (auto e = std::move(field_result).get(field)) return Error{NotJson(e)};
    std::string_view key;
    if (auto e = field.unescaped_key().get(key)) return Error{NotJson(e)};
    if (!KeyIs(key, "items")) continue;
    od::value items_value = field.value();
    auto items_null = IsNull(items_value);
    if (!items_null) return Error{items_null.error()};
    if (*items_null) continue;
    od::array items;
    if (auto e = items_value.get_array().get(items))
      return Bad(e, "\"Nodes.items\" must be an array");
    if (Result<bool> r = AppendNodeItems(items, projection, nodes); !r) return Error{r.error()};
  }
  return std::optional<std::vector<WireNode>>(std::move(nodes));
}

// The names as views into the body where the JSON text is the name (no escapes), else into
// args.unescaped_names.
Result<bool> DecodeNodeNames(od::value& v, ExtenderArgs& args) {
  auto null = IsNull(v);
  if (!null) return Error{null.error()};
  if (*null) return true;
  constexpr std::string_view kExpected = "\"NodeNames\" must be an array of strings or null";
  od::array arr;
  if (auto e = v.get_array().get(arr)) return Bad(e, kExpected);
  std::vector<std::string_view> names;
  std::vector<uint64_t> hashes;
  for (auto elem_result : arr) {
    od::value elem;
    if (auto e = std::move(elem_result).get(elem)) return Error{NotJson(e)};
    // The raw token is the quoted text (plus any whitespace up to the next token, which is
    // structural, so a string's text cannot run into the next string). When the text between
    // the quotes is plain it is the name (nothing to unescape): taken as it is, neither copied
    // nor compared; the array iterator skips the unread value.
    const std::string_view quoted = TrimJsonSpaceRight(elem.raw_json_token());
    if (quoted.size() >= 2 && quoted.front() == '"' && quoted.back() == '"') {
      const std::string_view text = quoted.substr(1, quoted.size() - 2);
      if (json_text::AllPlain(text)) {
        names.push_back(text);
        hashes.push_back(HashName(text));
        continue;
      }
    }
    std::string_view s;
    if (auto e = elem.get_string().get(s)) return Bad(e, kExpected);
    if (quoted.size() == s.size() + 2 && quoted.substr(1, s.size()) == s) {
      names.push_back(quoted.substr(1, s.size()));
    } else {
      args.unescaped_names.push_back(std::make_unique<std::string>(s));
      names.push_back(*args.unescaped_names.back());
    }
    hashes.push_back(HashName(names.back()));
  }
  args.node_names = std::move(names);
  args.node_name_hashes = std::move(hashes);
  return true;
}

// metadata.uid of a v1.Pod given as a victim; the rest of the pod is skipped unread.
Result<std::string> VictimPodUid(od::value& v, const std::string& where) {
  od::object pod;
  if (auto e = v.get_object().get(pod)) return Bad(e, where + " must be an object (a v1.Pod)");
  std::string uid;
  for (auto field_result : pod) {
    od::field field;
    if (auto e = std::move(field_result).get(field)) return Error{NotJson(e)};
    std::string_view key;
    if (auto e = field.unescaped_key().get(key)) return Error{NotJson(e)};
    if (!KeyIs(key, "metadata")) continue;
    od::object meta;
    if (auto e = field.value().get_object().get(meta))
      return Bad(e, where + ".metadata must be an object");
    for (auto meta_result : meta) {
      od::field mf;
      if (auto e = std::move(meta_result).get(mf)) return Error{NotJson(e)};
      std::string_view mkey;
      if (auto e = mf.unescaped_key().get(mkey)) return Error{NotJson(e)};
      if (!KeyIs(mkey, "uid")) continue;
      auto s = NullableString(mf.value(), "metadata.uid");
      if (!s) return Error{where + ": " + s.error()};
      uid = std::move(s).value();
    }
  }
  if (uid.empty()) return Error{where + " has no metadata.uid"};
  return uid;
}

// One value of NodeNameToVictims (full pods) or NodeNameToMetaVictims (UIDs).
Result<Victims> DecodeVictims(od::value& v, const std::string& where, bool meta) {
  od::object obj;
  if (auto e = v.get_object().get(obj)) return Bad(e, where + " must be an object");
  Victims victims;
  for (auto field_result : obj) {
    od::field field;
    if (auto e = std::move(field_result).get(field)) return Error{NotJson(e)};
    std::string_view key;
    if (auto e = field.unescaped_key().get(key)) return Error{NotJson(e)};
    if (KeyIs(key, "NumPDBViolations")) {
      auto n = NullableInt(field.value(), where + ".NumPDBViolations");
      if (!n) return Error{n.error()};
      victims.num_pdb_violations = *n;
      continue;
    }
    if (!KeyIs(key, "Pods")) continue;
    od::value pods_value = field.value();
    auto null = IsNull(pods_value);
    if (!null) return Error{null.error()};
    if (*null) continue;
    od::array pods;
    if (auto e = pods_value.get_array().get(pods)) return Bad(e, where + ".Pods must be an array");
    size_t index = 0;
    for (auto pod_result : pods) {
      od::value pod;
      if (auto e = std::move(pod_result).get(pod)) return Error{NotJson(e)};
      std::string pod_where = where + ".Pods[" + std::to_string(index++) + "]";
      if (!meta) {
        auto uid = VictimPodUid(pod, pod_where);
        if (!uid) return Error{uid.error()};
        victims.pod_uids.push_back(std::move(uid).value());
        continue;
      }
      od::object meta_pod;
      if (auto e = pod.get_object().get(meta_pod))
        return Bad(e, pod_where + " must be an object ({\"UID\": ...})");
      std::string uid;
      for (auto mf_result : meta_pod) {
        od::field mf;
        if (auto e = std::move(mf_result).get(mf)) return Error{NotJson(e)};
        std::string_view mkey;
        if (auto e = mf.unescaped_key().get(mkey)) return Error{NotJson(e)};
        if (!KeyIs(mkey, "UID")) continue;
        auto s = NullableString(mf.value(), pod_where + ".UID");
        if (!s) return Error{s.error()};
        uid = std::move(s).value();
      }
      if (uid.empty()) return Error{pod_where + ".UID is missing"};
      victims.pod_uids.push_back(std::move(uid));
    }
  }
  return victims;
}

Result<bool> DecodeVictimMap(od::value& v, std::string_view name, bool meta,
                             std::vector<NodeVictims>& out) {
  auto null = IsNull(v);
  if (!null) return Error{null.error()};
  if (*null) return true;
  od::object map;
  if (auto e = v.get_object().get(map))
    return Bad(e, Quote(name) + " must be an object keyed by node name or null");
  for (auto field_result : map) {
    od::field field;
    if (auto e = std::move(field_result).get(field)) return Error{NotJson(e)};
    std::string_view key;
    if (auto e = field.unescaped_key().get(key)) return Error{NotJson(e)};
    NodeVictims entry;
    entry.node_name = std::string(key);
    auto victims =
        DecodeVictims(field.value(), std::string(name) + "[\"" + entry.node_name + "\"]", meta);
    if (!victims) return Error{victims.error()};
    entry.victims = std::move(victims).value();
    out.push_back(std::move(entry));
  }
  return true;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Decoders

namespace {

// The Pod object's text decoded on its own, from a copy with simdjson's padding; nullopt when
// it does not decode (the full decoder then says why). The copy wraps the text as a field of an
// object, as the pod is in the body: the pod decoder reads a value within a document.
std::optional<Pod> DecodePodText(std::string_view text) {
  std::string wrapped;
  wrapped.reserve(text.size() + 6);
  wrapped.append("{\"P\":").append(text).push_back('}');
  const simdjson::padded_string copy(wrapped);
  ParserLease parser(copy.size());
  od::document doc;
  od::object root;
  if ((*parser).iterate(copy).get(doc) || doc.get_object().get(root)) return std::nullopt;
  std::optional<Pod> pod;
  for (auto field_result : root) {
    od::field field;
    if (std::move(field_result).get(field) || pod) return std::nullopt;
    Result<Pod> decoded = DecodePodField(field.value());
    if (!decoded) return std::nullopt;
    pod = std::move(decoded).value();
  }
  if (!CheckEnd(doc)) return std::nullopt;
  return pod;
}

// Reads a names-mode body as kube-scheduler sends it without a JSON parser (see
// DecodeNamesModeArgsFast). Each step either reads exactly what it expects or gives up.
class NamesModeScanner {
 public:
  explicit NamesModeScanner(simdjson::padded_string_view body)
      : p_(body.data()), end_(body.data() + body.size()) {}

  std::optional<ExtenderArgs> Scan() {
    ExtenderArgs args;
    bool have_pod = false;
    if (!Eat('{')) return std::nullopt;
    do {
      std::string_view key;
      if (!Eat('"') || !PlainStringRest(key) || !Eat(':')) return std::nullopt;
      SkipWhitespace();
      if (KeyIs(key, "Pod")) {
        std::string_view text;
        if (!ObjectText(text)) return std::nullopt;
        std::optional<Pod> pod = DecodePodText(text);
        if (!pod) return std::nullopt;
        args.pod = std::move(*pod);
        have_pod = true;
      } else if (KeyIs(key, "Nodes")) {
        if (!Null()) return std::nullopt;  // full mode, or not JSON
      } else if (KeyIs(key, "NodeNames")) {
        if (Null()) {
          args.node_names.reset();
          args.node_name_hashes.clear();
        } else if (!Names(args)) {
          return std::nullopt;
        }
      } else {
        return std::nullopt;  // a key kube-scheduler does not send: the full decoder skips it
      }
    } while (Eat(','));
    if (!Eat('}')) return std::nullopt;
    SkipWhitespace();
    if (p_ != end_ || !have_pod || !args.node_names) return std::nullopt;
    return args;
  }

 private:
  void SkipWhitespace() {
    while (p_ < end_ && IsJsonSpace(*p_)) ++p_;
  }
  bool Eat(char c) {
    SkipWhitespace();
    if (p_ == end_ || *p_ != c) return false;
    ++p_;
    return true;
  }
  bool Null() {
    if (end_ - p_ < 4 || std::memcmp(p_, "null", 4) != 0) return false;
    p_ += 4;
    return true;
  }
  // After an opening quote: the string up to its closing quote, if every byte is plain.
  bool PlainStringRest(std::string_view& text) {
    const size_t n = json_text::PlainPrefix(p_, end_);
    if (p_ + n == end_ || p_[n] != '"') return false;
    text = std::string_view(p_, n);
    p_ += n + 1;
    return true;
  }
  // `["name",...]` of plain names: views into the body.
  bool Names(ExtenderArgs& args) {
    if (!Eat('[')) return false;
    std::vector<std::string_view> names;
    std::vector<uint64_t> hashes;
    // Node names run 10 to 60 bytes: a guess that rarely regrows and never wastes much.
    names.reserve(static_cast<size_t>(end_ - p_) / 24);
    hashes.reserve(names.capacity());
    if (!Eat(']')) {
      do {
        std::string_view name;
        if (!Eat('"') || !PlainStringRest(name)) return false;
        names.push_back(name);
        hashes.push_back(HashName(name));
      } while (Eat(','));
      if (!Eat(']')) return false;
    }
    args.node_names = std::move(names);
    args.node_name_hashes = std::move(hashes);
    return true;
  }
  // The text of the object at p_, from its '{' to the matching '}' (brackets counted outside
  // strings). Whether it is well-formed is simdjson's to say when it decodes the text.
  bool ObjectText(std::string_view& text) {
    const char* start = p_;
    if (p_ == end_ || *p_ != '{') return false;
    int depth = 0;
    while (p_ < end_) {
      const char c = *p_++;
      if (c == '"') {
        for (;;) {
          p_ += json_text::PlainPrefix(p_, end_);
          if (p_ == end_) return false;
          const char s = *p_++;
          if (s == '"') break;
          if (s == '\\') {
            if (p_ == end_) return false;
            ++p_;
          }
        }
      } else if (c == '{' || c == '[') {
        ++depth;
      } else if ((c == '}' || c == ']') && --depth == 0) {
        text = std::string_view(start, static_cast<size_t>(p_ - start));
        return true;
      }
    }
    return false;
  }

  const char* p_;
  const char* const end_;
};

}  // namespace

std::optional<ExtenderArgs> DecodeNamesModeArgsFast(simdjson::padded_string_view body) {
  if (body.padding() < 16) return std::nullopt;  // PlainPrefix reads whole 16-byte blocks
  return NamesModeScanner(body).Scan();
}

Result<ExtenderArgs> DecodeExtenderArgs(simdjson::padded_string_view body,
                                        const NodeProjection& projection) {
  if (std::optional<ExtenderArgs> fast = DecodeNamesModeArgsFast(body)) return std::move(*fast);
  return DecodeExtenderArgsInFull(body, projection);
}

std::span<const uint64_t> NodeNameHashes(const ExtenderArgs& args, std::vector<uint64_t>& scratch) {
  if (args.node_names && args.node_name_hashes.size() == args.node_names->size()) {
    return args.node_name_hashes;
  }
  scratch = args.node_names ? HashNames(*args.node_names) : std::vector<uint64_t>();
  return scratch;
}

namespace {

Result<ExtenderArgs> DecodeArgsInFull(simdjson::padded_string_view body,
                                      const NodeProjection& projection, bool pooled_parser) {
  ExtenderArgs args;
  bool have_pod = false;
  Result<bool> read = ForEachRootField(
      body,
      [&](std::string_view key, od::value& value) {
        if (KeyIs(key, "Pod")) {
          return ReadPodField(value, args.pod, have_pod);
        } else if (KeyIs(key, "Nodes")) {
          auto nodes = DecodeNodeList(value, projection);
          if (!nodes) return Result<bool>(Error{nodes.error()});
          args.nodes = std::move(nodes).value();
        } else if (KeyIs(key, "NodeNames")) {
          args.node_names.reset();
          args.unescaped_names.clear();
          args.node_name_hashes.clear();
          return DecodeNodeNames(value, args);
        }
        return Result<bool>(true);
      },
      pooled_parser);
  if (!read) return Error{read.error()};
  if (!have_pod) return Error{std::string(kPodMissing)};
  if (!args.nodes && !args.node_names) {
    return Error{
        "\"Nodes\" and \"NodeNames\" are both missing or null; one of them must list the candidate "
        "nodes"};
  }
  return args;
}

}  // namespace

Result<ExtenderArgs> DecodeExtenderArgsInFull(simdjson::padded_string_view body,
                                              const NodeProjection& projection) {
  return DecodeArgsInFull(body, projection, /*pooled_parser=*/false);
}

namespace {

// Reads a body backwards from its end, token by token, over the few tokens that may follow
// Nodes.items.
class BackwardReader {
 public:
  explicit BackwardReader(std::string_view text) : text_(text), end_(text.size()) {}

  bool Take(std::string_view token) {
    end_ = TrimJsonSpaceRight(text_.substr(0, end_)).size();
    if (end_ < token.size() || text_.substr(end_ - token.size(), token.size()) != token)
      return false;
    end_ -= token.size();
    return true;
  }
  // A key of letters alone between its quotes, so that it has nothing to unescape.
  std::optional<std::string_view> TakePlainKey() {
    if (!Take("\"")) return std::nullopt;
    size_t begin = end_;
    while (begin > 0 && ((text_[begin - 1] >= 'a' && text_[begin - 1] <= 'z') ||
                         (text_[begin - 1] >= 'A' && text_[begin - 1] <= 'Z'))) {
      --begin;
    }
    if (begin == 0 || text_[begin - 1] != '"') return std::nullopt;
    std::string_view key = text_.substr(begin, end_ - begin);
    end_ = begin - 1;
    return key;
  }
  size_t position() const { return end_; }  // of the first token read so far

 private:
  std::string_view text_;
  size_t end_;
};

// Where the `]` closing Nodes.items is when the body ends as kube-scheduler's does after it:
// `]}` (the end of Nodes), then `,"NodeNames":null` or nothing, then `}`. names_null says
// whether that NodeNames is there.
std::optional<size_t> ItemsArrayEnd(std::string_view text, bool& names_null) {
  BackwardReader back(text);
  if (!back.Take("}")) return std::nullopt;
  names_null = back.Take("null");
  if (names_null) {
    if (!back.Take(":")) return std::nullopt;
    std::optional<std::string_view> key = back.TakePlainKey();
    if (!key || !KeyIs(*key, "NodeNames") || !back.Take(",")) return std::nullopt;
  }
  if (!back.Take("}") || !back.Take("]")) return std::nullopt;
  return back.position();
}

// Overwrites bytes of a buffer for as long as it lives, and puts the old ones back.
class TemporaryEdits {
 public:
  explicit TemporaryEdits(char* data) : data_(data) {}
  ~TemporaryEdits() { Undo(); }
  TemporaryEdits(const TemporaryEdits&) = delete;
  TemporaryEdits& operator=(const TemporaryEdits&) = delete;

  void Write(size_t at, std::string_view bytes) {
    saved_.push_back({at, std::string(data_ + at, bytes.size())});
    std::memcpy(data_ + at, bytes.data(), bytes.size());
  }
  void Undo() {
    for (auto it = saved_.rbegin(); it != saved_.rend(); ++it)
      std::memcpy(data_ + it->at, it->bytes.data(), it->bytes.size());
    saved_.clear();
  }

 private:
  struct Saved {
    size_t at;
    std::string bytes;
  };
  char* data_;
  std::vector<Saved> saved_;
};

// A document that is a JSON array of v1.Node objects, decoded as items of Nodes.items.
Result<std::vector<WireNode>> DecodeNodeArray(simdjson::padded_string_view text,
                                              const NodeProjection& projection) {
  ParserLease parser(text.size(), /*pooled=*/true);
  od::document doc;
  if (auto e = (*parser).iterate(text).get(doc)) return Error{NotJson(e)};
  od::array items;
  if (auto e = doc.get_array().get(items)) return Bad(e, "expected an array of nodes");
  std::vector<WireNode> nodes;
  if (Result<bool> r = AppendNodeItems(items, projection, nodes); !r) return Error{r.error()};
  if (Result<bool> end = CheckEnd(doc); !end) return Error{end.error()};
  return nodes;
}

simdjson::padded_string_view Part(RequestBuffer& body, size_t begin, size_t end) {
  return simdjson::padded_string_view(body.mutable_data() + begin, end - begin,
                                      body.capacity() - begin);
}

constexpr std::string_view kItemBoundary = "},{\"metadata\":";

}  // namespace

// The decode in parts, fed as the body arrives. Parts are jobs: the head (the body up to the
// first cut, Pod included) and the arrays of items after each cut. This thread (the one that
// appends) finds the cuts in the bytes received so far, writes the bytes that make each part
// whole JSON, and publishes a part once its bytes and the SIMDJSON_PADDING after them are in:
// simdjson may read that far, and those bytes are then written by nobody until the part is
// decoded (a cut is never placed within the padding of the part before it). The helper
// thread takes published parts from the front as they come; Finish() publishes the last one and
// this thread takes parts from the back until none is left.
class FullModeStreamDecoder::State {
 public:
  State(RequestBuffer& body, size_t length, const NodeProjection& projection, size_t parts)
      : body_(body),
        length_(length),
        projection_(projection),
        parts_(std::max<size_t>(parts, 2)),
        edits_(ReservedData(body, length)) {
    try {
      helper_ = std::jthread([this] { HelpUntilClosed(); });
    } catch (const std::system_error&) {
      // No thread to be had: Finish() decodes every part on the caller's thread.
    }
    Received();
  }
  ~State() { Stop(); }
  State(const State&) = delete;
  State& operator=(const State&) = delete;

  void Append(const char* data, size_t size) {
    if (!stopped_ && body_.size() + size > length_) Stop();  // more than announced
    body_.Append(data, size);
    if (!stopped_) Received();
  }

  std::optional<ExtenderArgs> Finish();
  size_t parts_decoded() const;
  RequestBuffer& body() { return body_; }
  const NodeProjection& projection() const { return projection_; }

 private:
  static char* ReservedData(RequestBuffer& body, size_t length) {
    body.Reserve(length);  // so that no Append() moves the bytes the helper reads
    return body.mutable_data();
  }

  struct Cut {
    size_t at;    // of a boundary
    size_t next;  // of the boundary after it: the item in between is decoded on its own
  };
  struct Job {
    size_t begin = 0;
    size_t end = 0;  // the part is [begin, end) of the body
    bool head = false;
    Result<ExtenderArgs> args = Error{""};            // the head's
    Result<std::vector<WireNode>> nodes = Error{""};  // a tail's
  };

  // Finds cuts in the bytes received so far and publishes the parts whose bytes are all in.
  void Received();
  // Adds a part whose bytes are not all in yet (this thread only; the helper sees it once
  // published).
  void AddJob(size_t begin, size_t end, bool head);
  void Run(Job& job) noexcept;
  // The helper thread: decodes published parts from the front until there are no more.
  void HelpUntilClosed();
  // Ends the helper and puts the body's bytes back. The decode gives nullopt from then on.
  void Stop();

  RequestBuffer& body_;
  const size_t length_;
  const NodeProjection projection_;
  const size_t parts_;

  // This thread's alone.
  TemporaryEdits edits_;
  std::vector<Cut> cuts_;
  std::optional<size_t> pending_at_;  // a boundary found; the one after it is not yet
  size_t search_from_ = 0;
  size_t cut_from_ = 0;       // the next cut starts here or later: past the last part's padding
  std::vector<size_t> ends_;  // of each part, as jobs_
  size_t published_ = 0;      // parts published
  bool stopped_ = false;

  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::deque<Job> jobs_;  // grows at the back; its elements stay where they are
  size_t front_ = 0;      // jobs_[front_, end_) are published and not taken
  size_t end_ = 0;
  size_t decoded_ = 0;
  bool closed_ = false;  // no part will be published
  bool stop_ = false;
  // Declared last: joined before the rest goes.
  std::jthread helper_;
};

void FullModeStreamDecoder::State::Received() {
  const std::string_view text(body_.mutable_data(), body_.size());
  const size_t n = kItemBoundary.size();
  // A boundary may lie across what has arrived and what has not: look again from there.
  auto resume_at = [&] { return text.size() >= n ? text.size() - n + 1 : 0; };
  while (cuts_.size() + 1 < parts_) {
    if (!pending_at_) {
      const size_t from =
          std::max({length_ / parts_ * (cuts_.size() + 1), search_from_, cut_from_});
      if (text.size() < from + n) break;
      const size_t at = text.find(kItemBoundary, from);
      if (at == std::string_view::npos) {
        search_from_ = std::max(from, resume_at());
        break;
      }
      pending_at_ = at;
      search_from_ = at + 1;
    }
    const size_t next = text.find(kItemBoundary, search_from_);
    if (next == std::string_view::npos) {
      search_from_ = std::max(search_from_, resume_at());
      break;
    }
    const size_t at = *pending_at_;
    pending_at_.reset();
    search_from_ = next + 1;
    if (cuts_.empty()) {
      edits_.Write(at + 1, "]}}");  // over `,{"`: the head closes Nodes.items, Nodes, the body
      AddJob(0, at + 4, /*head=*/true);
    } else {
      edits_.Write(at + 1, "]");  // over `,`: the tail before closes its array
      AddJob(cuts_.back().next + 1, at + 2, /*head=*/false);
    }
    edits_.Write(next + 1, "[");  // over `,`: the next tail opens one
    cuts_.push_back({at, next});
    cut_from_ = ends_.back() + simdjson::SIMDJSON_PADDING;
  }
  size_t ready = published_;
  while (ready < ends_.size() && ends_[ready] + simdjson::SIMDJSON_PADDING <= text.size()) ++ready;
  if (ready == published_) return;
  published_ = ready;
  {
    std::lock_guard<std::mutex> lock(mu_);
    end_ = published_;
  }
  wake_.notify_one();
}

void FullModeStreamDecoder::State::AddJob(size_t begin, size_t end, bool head) {
  ends_.push_back(end);
  std::lock_guard<std::mutex> lock(mu_);
  Job& job = jobs_.emplace_back();
  job.begin = begin;
  job.end = end;
  job.head = head;
}

void FullModeStreamDecoder::State::Run(Job& job) noexcept {
  const simdjson::padded_string_view text = Part(body_, job.begin, job.end);
  // An exception must not end the process from the helper thread: out of memory here is the
  // one-pass decoder's to meet, on the request's thread.
  try {
    if (job.head) {
      job.args = DecodeArgsInFull(text, projection_, /*pooled_parser=*/true);
    } else {
      job.nodes = DecodeNodeArray(text, projection_);
    }
  } catch (const std::exception& e) {
    job.args = Error{e.what()};
    job.nodes = Error{e.what()};
  }
  std::lock_guard<std::mutex> lock(mu_);
  ++decoded_;
}

size_t FullModeStreamDecoder::State::parts_decoded() const {
  std::lock_guard<std::mutex> lock(mu_);
  return decoded_;
}

void FullModeStreamDecoder::State::HelpUntilClosed() {
  for (;;) {
    Job* job = nullptr;
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait(lock, [&] { return stop_ || front_ < end_ || closed_; });
      if (stop_ || front_ >= end_) return;
      job = &jobs_[front_++];
    }
    Run(*job);
  }
}

void FullModeStreamDecoder::State::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (helper_.joinable()) helper_.join();
  edits_.Undo();
  stopped_ = true;
}

std::optional<ExtenderArgs> FullModeStreamDecoder::State::Finish() {
  if (stopped_) return std::nullopt;
  if (body_.size() != length_) {
    Stop();
    return std::nullopt;
  }
  const std::string_view text(body_.View());
  bool names_null = false;
  const std::optional<size_t> items_end = ItemsArrayEnd(text, names_null);
  // The last tail ends Nodes.items, past the padding of the part before it. (No boundary can
  // follow Nodes.items in what ItemsArrayEnd accepts; the check keeps every part's length
  // positive whatever that function comes to accept.)
  if (!items_end || cuts_.empty() || cuts_.back().next >= *items_end ||
      *items_end + 1 < ends_.back() + simdjson::SIMDJSON_PADDING) {
    Stop();
    return std::nullopt;
  }
  // simdjson may read the byte past a document whose root array is unbalanced as a closing
  // bracket of its own; a space there is nothing.
  edits_.Write(*items_end + 1, " ");
  AddJob(cuts_.back().next + 1, *items_end + 1, /*head=*/false);
  published_ = ends_.size();
  {
    std::lock_guard<std::mutex> lock(mu_);
    end_ = published_;
    closed_ = true;
  }
  wake_.notify_one();
  for (;;) {
    Job* job = nullptr;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (front_ >= end_) break;
      job = &jobs_[--end_];
    }
    Run(*job);
  }
  if (helper_.joinable()) helper_.join();
  edits_.Undo();
  stopped_ = true;  // the parts' answer is taken once

  Result<ExtenderArgs>& head = jobs_.front().args;
  if (!head || !head->nodes || head->nodes->empty()) return std::nullopt;
  for (size_t k = 1; k < jobs_.size(); ++k) {
    if (!jobs_[k].nodes) return std::nullopt;
  }
  // The head is whole JSON either way; the first cut was between two items of the Nodes.items
  // it decoded only if its last item ends there. Then each tail, whole JSON from there, ends
  // between two items too.
  const std::string_view last = head->nodes->back().raw;
  if (last.data() + last.size() != body_.mutable_data() + cuts_[0].at + 1) return std::nullopt;

  // The items between the parts.
  std::vector<Result<std::vector<WireNode>>> between(cuts_.size(), Error{""});
  {
    TemporaryEdits edits(body_.mutable_data());
    for (size_t k = 0; k < cuts_.size(); ++k) {
      edits.Write(cuts_[k].at + 1, "[");
      edits.Write(cuts_[k].next + 1, "]");
      between[k] = DecodeNodeArray(Part(body_, cuts_[k].at + 1, cuts_[k].next + 2), projection_);
      if (!between[k] || between[k]->size() != 1) return std::nullopt;
    }
  }

  ExtenderArgs args = std::move(head).value();
  if (names_null) {  // as DecodeExtenderArgsInFull reads a later `"NodeNames": null`
    args.node_names.reset();
    args.unescaped_names.clear();
    args.node_name_hashes.clear();
  }
  std::vector<WireNode>& nodes = *args.nodes;
  size_t total = nodes.size() + cuts_.size();
  for (size_t k = 1; k < jobs_.size(); ++k) total += jobs_[k].nodes->size();
  nodes.reserve(total);
  for (size_t k = 0; k < cuts_.size(); ++k) {
    nodes.push_back(std::move(between[k].value().front()));
    for (WireNode& node : jobs_[k + 1].nodes.value()) nodes.push_back(std::move(node));
  }
  return args;
}

FullModeStreamDecoder::FullModeStreamDecoder(RequestBuffer& body, size_t length,
                                             const NodeProjection& projection, size_t parts)
    : state_(std::make_unique<State>(body, length, projection, parts)) {}

FullModeStreamDecoder::~FullModeStreamDecoder() = default;

void FullModeStreamDecoder::Append(const char* data, size_t size) { state_->Append(data, size); }

std::optional<ExtenderArgs> FullModeStreamDecoder::FinishInParts() { return state_->Finish(); }

size_t FullModeStreamDecoder::parts_decoded() const { return state_->parts_decoded(); }

Result<ExtenderArgs> FullModeStreamDecoder::Finish() {
  if (std::optional<ExtenderArgs> args = state_->Finish()) return std::move(*args);
  return DecodeExtenderArgs(state_->body().View(), state_->projection());
}

std::optional<ExtenderArgs> DecodeFullModeArgsInParts(RequestBuffer& body,
                                                      const NodeProjection& projection,
                                                      size_t parts) {
  return FullModeStreamDecoder(body, body.size(), projection, parts).FinishInParts();
}
Result<ExtenderArgs> DecodeExtenderArgs(RequestBuffer& body, const NodeProjection& projection) {
  const simdjson::padded_string_view view = body.View();
  if (view.size() >= kSplitDecodeMinBytes) {
    if (std::optional<ExtenderArgs> args = DecodeFullModeArgsInParts(body, projection))
      return std::move(*args);
  }
  return DecodeExtenderArgs(view, projection);
}

Result<ExtenderPreemptionArgs> DecodePreemptionArgs(simdjson::padded_string_view body) {
  ExtenderPreemptionArgs args;
  std::vector<NodeVictims> full;
  std::vector<NodeVictims> meta;
  bool have_pod = false;
  Result<bool> read = ForEachRootField(body, [&](std::string_view key, od::value& value) {
    if (KeyIs(key, "Pod")) {
      return ReadPodField(value, args.pod, have_pod);
    } else if (KeyIs(key, "NodeNameToVictims")) {
      return DecodeVictimMap(value, "NodeNameToVictims", false, full);
    } else if (KeyIs(key, "NodeNameToMetaVictims")) {
      return DecodeVictimMap(value, "NodeNameToMetaVictims", true, meta);
    }
    return Result<bool>(true);
  });
  if (!read) return Error{read.error()};
  if (!have_pod) return Error{std::string(kPodMissing)};
  args.candidates = std::move(meta);
  for (auto& entry : full) args.candidates.push_back(std::move(entry));
  return args;
}

Result<ExtenderBindingArgs> DecodeBindingArgs(simdjson::padded_string_view body) {
  ExtenderBindingArgs args;
  struct Slot {
    std::string_view name;
    std::string* out;
  };
  const Slot slots[] = {{"PodName", &args.pod_name},
                        {"PodNamespace", &args.pod_namespace},
                        {"PodUID", &args.pod_uid},
                        {"Node", &args.node}};
  Result<bool> read = ForEachRootField(body, [&](std::string_view key, od::value& value) {
    for (const Slot& slot : slots) {
      if (!KeyIs(key, slot.name)) continue;
      auto s = NullableString(value, slot.name);
      if (!s) return Result<bool>(Error{s.error()});
      *slot.out = std::move(s).value();
      break;
    }
    return Result<bool>(true);
  });
  if (!read) return Error{read.error()};
  for (const Slot& slot : slots) {
    if (slot.out->empty()) return Error{Quote(slot.name) + " is missing"};
  }
  return args;
}

}  // namespace epc
