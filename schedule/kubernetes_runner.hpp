#pragma once
// The kubernetes runner: each event's channel as objects in a cluster
// (schedule/kubernetes_objects.hpp), applied, watched and deleted with
// kubectl (options.kubectl; its kubeconfig and context are the
// environment's: KUBECONFIG, or a service account in the cluster).
//   start()    renders the objects, writes them to
//              CONTROLLER_DATA/kubernetes/EVENT.json (mode 0600: it holds
//              the tokens) and runs `kubectl apply --server-side -f` on it.
//   liveness() asks for the origin's Deployment: there and not being
//              deleted is running; NotFound is gone. When kubectl cannot
//              answer (API server unreachable) it says running, with the
//              reason: the pods do not stop because the controller lost sight
//              of them, and the controller's check of the origin still tells.
//   stop()     deletes the Deployments, the Service, the ConfigMap and the
//              Secret by label, waiting for the pods (foreground cascade) up to
//              the grace, then force-deletes what is left. The
//              PersistentVolumeClaim (the DVR and the clips) is kept.
// Threads: see runner.hpp; each call runs its own kubectl, nothing is shared
// but the options (read only).
#include <string>
#include <string_view>

#include "schedule/kubernetes_objects.hpp"
#include "schedule/runner.hpp"

namespace onair::schedule {

class KubernetesRunner final : public Runner {
  public:
    explicit KubernetesRunner(KubernetesOptions options);

    std::string_view name() const override { return "kubernetes"; }
    [[nodiscard]] core::Result<Deployment> start(const DeployRequest& request) override;
    Liveness liveness(const Deployment& deployment) override;
    [[nodiscard]] core::Result<> stop(const Deployment& deployment,
                                      std::chrono::milliseconds grace) override;

    const KubernetesOptions& options() const { return options_; }

  private:
    KubernetesOptions options_;
};

// The file start() writes the event's objects to.
std::string kubernetes_objects_path(const std::string& controller_data, std::string_view event_id);

}  // namespace onair::schedule
