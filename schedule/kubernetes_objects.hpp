#pragma once
// One event's channel as Kubernetes objects, for the kubernetes runner
// (schedule/kubernetes_runner.hpp): a pure function of the event, its
// channel (parsed, and the file's text), the tokens and the cluster options.
// Out: the objects, in the order they are applied:
//   ConfigMap   onair-KEY-channel   channel.yaml, rewritten for the pod
//   Secret      onair-KEY-tokens    ONAIR_INGEST_TOKEN (and ONAIR_API_TOKEN)
//   PVC         onair-KEY-data      the channel's data folder (DVR, clips)
//   Deployment  onair-KEY-origin    `onair origin`, 1 replica, Recreate
//   Service     onair-KEY-origin    ClusterIP on the origin's port
//   Deployment  onair-KEY-encode-a  `onair encode --pipeline a`, pushing to the Service
//   Deployment  onair-KEY-encode-b  the same for inputs.b, when the channel has one;
//                                   never on the node of encode-a (pod anti-affinity)
// KEY is the event id as a DNS-1123 label (kubernetes_key()). Every object
// carries the labels app.kubernetes.io/name=onair, onair/event=KEY,
// onair/role=channel|tokens|data|origin|encoder and onair/generation, and
// the event id as written in the annotation onair/event-id.
// Any thread; owns nothing.
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "core/config.hpp"
#include "core/result.hpp"
#include "schedule/schedule_config.hpp"

namespace onair::schedule {

// Where the channels run in the cluster and how the controller reaches it.
struct KubernetesOptions {
    std::string namespace_ = "onair";
    std::string image = "onair:latest";  // holds `onair` on its PATH
    std::string image_pull_policy = "IfNotPresent";
    std::string storage_class;  // empty: the cluster's default StorageClass
    std::string storage_size = "20Gi";
    std::string kubectl = "kubectl";  // the program start()/liveness()/stop() run
    // An existing Secret (key ONAIR_API_TOKEN) the origin takes its API
    // token from; empty: the channel's own API token, if it has one, goes
    // into the tokens Secret.
    std::string api_token_secret;
    int termination_grace_seconds = 30;  // SIGTERM to SIGKILL in the pods
};

// The schedule file's `runner:` keys as the runner's options; what the file
// does not name (pull policy, termination grace) keeps its default here.
KubernetesOptions kubernetes_options(const RunnerConfig& runner);

// Inside the pods.
inline constexpr std::string_view kChannelMountPath = "/etc/onair";  // channel.yaml
inline constexpr std::string_view kChannelFileInPod = "/etc/onair/channel.yaml";
inline constexpr std::string_view kDataMountPath = "/var/lib/onair/data";  // the PVC

// The shared secrets the channel's processes need.
struct KubernetesTokens {
    std::string ingest;  // what pipelines push to the origin's /ingest/ with; required
    std::string api;     // control calls; empty: none (or options.api_token_secret)
};

// The names of one event's objects.
struct KubernetesNames {
    std::string key;     // the event id as a DNS-1123 label piece (also the onair/event label)
    std::string origin;  // onair-KEY-origin: the origin's Deployment and its Service
    std::string encode_a;
    std::string encode_b;
    std::string data;     // the PVC
    std::string channel;  // the ConfigMap
    std::string tokens;   // the Secret
};

// The event id made a valid DNS-1123 label piece: lower case, `_` as `-`,
// no `-` at either end. When that changed anything (so that "Fight_Night"
// and "fight-night" stay apart) or the id is too long for the longest name
// (onair-KEY-encode-a within 63 characters), a hash of the id as written
// is appended: "Fight_Night" -> "fight-night-1c2b3a4d".
std::string kubernetes_key(std::string_view event_id);
KubernetesNames kubernetes_names(std::string_view event_id);
// The same from the key (what a Deployment's id holds: NAMESPACE/onair-KEY).
KubernetesNames kubernetes_names_of_key(std::string key);

// The origin's address inside the cluster: http://SERVICE.NAMESPACE.svc.cluster.local:PORT.
std::string kubernetes_origin_url(const KubernetesNames& names, const KubernetesOptions& options,
                                  int port);

// channel.yaml as the pods read it: origin.listen on 0.0.0.0 (the same
// port), `data` at kDataMountPath, and the token file keys removed (the
// tokens come from the Secret through the environment, which wins anyway).
// The rest is the file as written, re-emitted by yaml-cpp (comments are lost).
core::Result<std::string> kubernetes_channel_yaml(std::string_view channel_text,
                                                  const core::ChannelConfig& channel);

struct KubernetesRender {
    const EventSpec& event;
    const core::ChannelConfig& channel;
    std::string_view channel_text;  // the channel file's bytes
    const KubernetesTokens& tokens;
    std::string_view generation;  // the onair/generation label: which start() made them
};

// The objects, in apply order; an error when the channel file cannot be
// rewritten or the tokens are missing.
core::Result<std::vector<boost::json::object>> render_kubernetes_objects(
    const KubernetesRender& render, const KubernetesOptions& options);

// {"apiVersion": "v1", "kind": "List", "items": [...]}, what `kubectl apply -f` takes.
boost::json::object kubernetes_list(std::vector<boost::json::object> items);

}  // namespace onair::schedule
