export { LocalControlPlane, portDetails, diffStates, type LocalControlPlaneOptions, type PortStatus } from './local-control-plane.js';
export { parseDesiredState, StateFileError, type DesiredState, type LocalNetwork, type LocalPort, type LocalTunnelEndpoint } from './state-file.js';
