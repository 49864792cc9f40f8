// Decoders for kube-scheduler's extender request bodies (k8s.io/kube-scheduler/extender/v1).
//
// The Go types carry no json tags, so kube-scheduler sends the Go field names (`Pod`, `Nodes`,
// `NodeNames`) with unset pointers as `null`. Keys match case-insensitively, as Go's
// encoding/json does. The decode runs on simdjson's on-demand API over the request buffer
// itself: every node of `Nodes.items` keeps its raw JSON text (a view into that buffer), so the
// filter answer returns passing nodes as received instead of re-serializing them.
//
// Errors name what is wrong: `request body is not JSON: ...`, `"Pod" is missing`,
// `"NodeNames" must be an array of strings`. A node whose fields do not decode (a bad quantity)
// is not an error of the request: it is kept with its decode error so the extender can fail that
// node alone.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "common/k8s/decode.h"
#include "common/model/objects.h"
#include "common/util/result.h"

namespace epc {

// Keeps the storage of large request bodies between requests. A 45 MB full-mode body read into
// fresh memory is mapped and faulted in a page at a time, and that costs more than reading it
// over loopback (benchmarks/README.md, "Request buffers kept between requests"). kube-scheduler
// sends one such body at a time, so one kept buffer serves them all. Keeps at most
// `max_buffers` buffers, each of min_bytes..max_bytes (the largest it was given), and holds
// that memory for as long as it lives. Thread-safe; must outlive the buffers that use it.
class RequestBufferPool {
 public:
  struct Storage {
    std::unique_ptr<char[]> data;
    size_t capacity = 0;
  };

  explicit RequestBufferPool(size_t min_bytes = 1u << 20, size_t max_bytes = 64u << 20,
                             size_t max_buffers = 1)
      : min_bytes_(min_bytes), max_bytes_(max_bytes), max_buffers_(max_buffers) {}
  RequestBufferPool(const RequestBufferPool&) = delete;
  RequestBufferPool& operator=(const RequestBufferPool&) = delete;

  size_t min_bytes() const { return min_bytes_; }
  // The smallest kept buffer of at least `capacity` bytes, else a new one of that size.
  Storage Take(size_t capacity);
  // Keeps `storage` if it is within the bounds and there is room, or if it is larger than the
  // smallest kept buffer (which it then replaces).
  void Give(Storage storage);
  size_t kept_bytes() const;

 private:
  const size_t min_bytes_;
  const size_t max_bytes_;
  const size_t max_buffers_;
  mutable std::mutex mu_;
  std::vector<Storage> kept_;
};

// A request body with the padding simdjson needs after the last byte. Append() grows it;
// View() is what the decoders read. Reserve the Content-Length first to avoid regrowth. With a
// pool, storage of pool->min_bytes() or more comes from the pool and goes back to it.
class RequestBuffer {
 public:
  RequestBuffer() = default;
  explicit RequestBuffer(RequestBufferPool* pool) : pool_(pool) {}
  explicit RequestBuffer(std::string_view text) { Append(text.data(), text.size()); }
  ~RequestBuffer();
  RequestBuffer(const RequestBuffer&) = delete;
  RequestBuffer& operator=(const RequestBuffer&) = delete;

  void Reserve(size_t size);
  void Append(const char* data, size_t size);
  size_t size() const { return size_; }
  std::string_view text() const { return {data_.get(), size_}; }
  // Valid until the next Append() or Reserve().
  simdjson::padded_string_view View();
  // The bytes behind View(), for DecodeExtenderArgs(RequestBuffer&), which overwrites a few of
  // them while it decodes and puts them back before it returns.
  char* mutable_data() { return data_.get(); }
  size_t capacity() const { return capacity_; }

 private:
  void Grow(size_t capacity);
  void Release(RequestBufferPool::Storage storage);

  RequestBufferPool* pool_ = nullptr;
  // size_ bytes of body, then at least SIMDJSON_PADDING bytes. Not zero-filled on growth: a
  // 45 MB body is written once, by Append().
  std::unique_ptr<char[]> data_;
  size_t capacity_ = 0;
  size_t size_ = 0;
};

// One item of `Nodes.items`: its text as received and what decoding it gave. The item is decoded
// in the same pass over the body that finds its text.
struct WireNode {
  std::string_view raw;      // into the request buffer; no trailing whitespace
  NodeDecodeResult decoded;  // decoded.error is empty on success
};

// ExtenderArgs: the body of filter and prioritize.
struct ExtenderArgs {
  Pod pod;
  std::optional<std::vector<WireNode>> nodes;  // `Nodes`: null in names mode
  // `NodeNames`: null in full mode. Each name is a view into the request buffer (a JSON string
  // without escapes is its own text, and node names have none) or into unescaped_names: no
  // std::string per name for thousands of names.
  std::optional<std::vector<std::string_view>> node_names;
  // The names that had escapes, unescaped; node_names refers to them. Each is a heap object of
  // its own so that moving the args keeps the views valid.
  std::vector<std::unique_ptr<std::string>> unescaped_names;
  // HashName (common/util/name_hash.h) of each of node_names, in order: the decoders hash each
  // name while its bytes are in cache, for the lookups the extender makes with it. Empty when
  // the args were put together otherwise (tests): NodeNameHashes() then hashes the names.
  std::vector<uint64_t> node_name_hashes;

  // kube-scheduler sets exactly one of the two. When both are set, Nodes wins (it carries the
  // objects); names mode means NodeNames set and Nodes null.
  bool names_mode() const { return !nodes.has_value() && node_names.has_value(); }
};

// args.node_name_hashes when they match args.node_names (names mode), else the names hashed
// into `scratch`.
std::span<const uint64_t> NodeNameHashes(const ExtenderArgs& args, std::vector<uint64_t>& scratch);

// A victim as kube-scheduler proposes it: full pods (NodeNameToVictims, full mode) carry their
// uid in metadata.uid; meta pods (NodeNameToMetaVictims, names mode) only a UID.
struct Victims {
  std::vector<std::string> pod_uids;
  int64_t num_pdb_violations = 0;
};

struct NodeVictims {
  std::string node_name;
  Victims victims;
};

// ExtenderPreemptionArgs: the body of preempt. Exactly one of the maps is usually set; when both
// are, the entries of both are kept (MetaVictims first).
struct ExtenderPreemptionArgs {
  Pod pod;
  std::vector<NodeVictims> candidates;  // in request order
};

// ExtenderBindingArgs: the body of bind.
struct ExtenderBindingArgs {
  std::string pod_name;
  std::string pod_namespace;
  std::string pod_uid;
  std::string node;
};

// `body` must stay alive and unchanged while the result's views (WireNode::raw, node_names) are
// used. Full-mode nodes are decoded with `projection` (Extender::node_projection() for the
// extender's verbs; the default keeps everything).
Result<ExtenderArgs> DecodeExtenderArgs(simdjson::padded_string_view body,
                                        const NodeProjection& projection = NodeProjection());

// What the server calls for a body that came without a Content-Length (one that came with
// one of kSplitDecodeMinBytes or more goes to FullModeStreamDecoder as it arrives): the same
// answer as DecodeExtenderArgs(body.View(), projection), but a full-mode body of
// kSplitDecodeMinBytes or more is decoded by DecodeFullModeArgsInParts when it can be. The
// body's bytes are the same when the call returns (a few change during it).
inline constexpr size_t kSplitDecodeMinBytes = 4u << 20;
Result<ExtenderArgs> DecodeExtenderArgs(RequestBuffer& body,
                                        const NodeProjection& projection = NodeProjection());

// Full mode on two threads: the decode of a 5,000-node body is most of the extender's own time
// per filter call, and kube-scheduler waits for it. Takes a body of the shape kube-scheduler
// sends, where Nodes.items ends the body but for `}`, an optional `"NodeNames": null` and `}`,
// and cuts Nodes.items in up to `parts` parts of about equal size, between two items that Go's
// encoder wrote (`},{"metadata":`). Each part is decoded in place, made whole JSON by
// overwriting the bytes between items for a while: the body up to the first cut (closed with
// `]}}`), and the items after each cut (an array opened with `[` and closed with `]`), on a
// helper thread from the first and on the caller's from the last, taken one at a time so that
// neither thread waits long for the other; then the one item at each cut. Each is checked as
// whole JSON, and the first must end right after an item of its Nodes.items: so a cut anywhere
// but between two items of that array gives nullopt, and so does a body of any other shape or
// with any error, valid or not; the caller then decodes the body in one pass, which reports the
// errors. Gives the same args as DecodeExtenderArgsInFull, views into the same buffer.
inline constexpr size_t kDecodeParts = 8;
std::optional<ExtenderArgs> DecodeFullModeArgsInParts(
    RequestBuffer& body, const NodeProjection& projection = NodeProjection(),
    size_t parts = kDecodeParts);

// The same decode in parts while the body is still arriving. A 45 MB body takes ~30 ms to
// arrive even over loopback, and receiving it leaves a CPU partly idle: the helper thread
// decodes each part as soon as its bytes are in (and the SIMDJSON_PADDING bytes after them,
// which simdjson may read), so little is left when the last byte comes. The cuts are planned
// from the announced length (Content-Length) and found as the bytes arrive.
//
// `body` holds the first bytes of a body of `length` bytes (none, some or all of them); the
// rest is added through Append() alone. The body must outlive this object, and nothing else
// may read or write it until Finish() returns. The destructor stops the helper and puts back
// the bytes the decode overwrote.
//
// More parts than for a whole body: what is left when the last byte arrives is the last part
// and the one the helper is on, so smaller parts leave less (benchmarks/README.md, "Full-mode
// decode while the body arrives").
inline constexpr size_t kStreamDecodeParts = 32;
class FullModeStreamDecoder {
 public:
  FullModeStreamDecoder(RequestBuffer& body, size_t length, const NodeProjection& projection,
                        size_t parts = kStreamDecodeParts);
  ~FullModeStreamDecoder();
  FullModeStreamDecoder(const FullModeStreamDecoder&) = delete;
  FullModeStreamDecoder& operator=(const FullModeStreamDecoder&) = delete;

  // body.Append(data, size), then hands the helper what is whole. Bytes past `length` stop
  // the decode in parts (the one-pass decoder then reads the body).
  void Append(const char* data, size_t size);
  // Once the whole body was appended, call one of these, once. FinishInParts() gives what
  // DecodeFullModeArgsInParts gives; Finish() gives DecodeExtenderArgs(body.View(), projection)
  // when the parts give nothing. The body's bytes are as received afterwards either way.
  std::optional<ExtenderArgs> FinishInParts();
  Result<ExtenderArgs> Finish();
  // How many parts were decoded so far: the head and the arrays of items between cuts.
  size_t parts_decoded() const;

 private:
  class State;  // the parts, the helper thread, the bytes overwritten
  std::unique_ptr<State> state_;
};

// The two halves of DecodeExtenderArgs, for tests and benchmarks. The fast half reads a
// names-mode body of the shape kube-scheduler sends (the keys Pod, Nodes: null and NodeNames,
// in any order and casing; every key and name plain ASCII text with no escapes; the Pod an
// object) with a scanner and simdjson for the Pod alone; given anything else, valid or not, it
// gives nullopt and the full half decodes the body with simdjson throughout and reports any
// error. The fast half never accepts what the full half rejects, and gives the same args.
std::optional<ExtenderArgs> DecodeNamesModeArgsFast(simdjson::padded_string_view body);
Result<ExtenderArgs> DecodeExtenderArgsInFull(simdjson::padded_string_view body,
                                              const NodeProjection& projection = NodeProjection());
Result<ExtenderPreemptionArgs> DecodePreemptionArgs(simdjson::padded_string_view body);
Result<ExtenderBindingArgs> DecodeBindingArgs(simdjson::padded_string_view body);

// Case-insensitive ASCII comparison of a JSON key with a Go field name.
bool KeyIs(std::string_view key, std::string_view name);

}  // namespace epc
