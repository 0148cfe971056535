@echo off
rem Shell completion for "kubectl flexigrobots TAB": kubectl 1.26+ runs kubectl_complete-PLUGIN from PATH.
kubectl-flexigrobots.exe __complete %*
