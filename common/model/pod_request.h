// A pod's effective request, computed as kube-scheduler computes it (PodRequests in
// k8s.io/component-helpers/resource): app containers summed; init containers as a running
// maximum; restartable (sidecar) init containers added to everything that starts after them;
// pod overhead added. As the API server's defaulting does, a resource with a limit and no
// request is requested at its limit (extended resources such as EPC can only be set that way).
// `pods` is 1.
#pragma once

#include "common/model/epc_resources.h"
#include "common/model/objects.h"
#include "common/model/resources.h"

namespace epc {

Resources PodRequests(const Pod& pod, const EpcResources& epc);

}  // namespace epc
