// What `epc-autoscaler --once` prints for the cluster autoscaler: one JSON line per node group
// ({"kind":"NodeGroup",...}: its sizes, the decision about it, the pods a scale-up would place,
// why it was not chosen, the nodes it would lose) and one summary line
// ({"kind":"ClusterAutoscaler",...}: the pending pods and where they went, errors). The field
// names are documented in README.md and stable: scripts read them.
#pragma once

#include <string>
#include <vector>

#include "autoscaler/cluster/controller/controller.h"

namespace epc::cluster {

std::vector<std::string> ClusterReportJsonLines(const ClusterReconcileReport& report);

}  // namespace epc::cluster
