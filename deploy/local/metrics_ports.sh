# shellcheck shell=bash
# Where each service serves /metrics locally (RECOUVRA_<SERVICE>_METRICS_PORT): services.sh starts
# the services with these ports and stack/prometheus.sh scrapes them. 191xx + the gRPC port's tail.
declare -A METRICS_PORT=([gateway]=19150 [intake]=19151 [scoring]=19152 [matching]=19153
                         [messaging]=19154 [vault]=19155 [settlement]=19156)
