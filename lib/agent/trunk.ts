/**
 * The trunk extension's place in the agent (docs/trunk.md): refused at
 * construction when the control plane or the OVSDB connection cannot carry
 * it (trunks are Neutron's: the local control plane has none), then, once
 * br-int is set up and the control plane started, the driver follows the
 * bridges' OVSDB events and the server's Trunk/SubPort pushes.
 */
import { ConfigError } from '../config/index.js';
import type { ControlPlane } from '../control-plane/types.js';
import type { SwitchDatabase } from './switch.js';
import type { Logger } from '../log.js';
import { TrunkDriver } from '../trunk/trunk-driver.js';
import { isTrunkBridge } from '../trunk/names.js';
import type { TrunkControl, TrunkSwitch } from '../trunk/types.js';

export class TrunkExtension {
  private readonly control: TrunkControl;
  private readonly ovs: TrunkSwitch;
  private driver: TrunkDriver | undefined;

  constructor(cp: ControlPlane, private readonly db: SwitchDatabase, private readonly log: Logger, private readonly unplugGraceMs?: number) {
    if (!cp.trunk) {
      throw new ConfigError('[agent] extensions = trunk needs the Neutron control plane ([ovs_agent] control_plane = neutron): trunks are Neutron\'s', 'CONFIG_INVALID');
    }
    if (!db.trunkSwitch) throw new ConfigError('[agent] extensions = trunk needs an OVSDB connection that writes trunk bridges\' ports', 'CONFIG_INVALID');
    this.control = cp.trunk;
    this.ovs = db.trunkSwitch();
  }

  /** Starts following trunk bridges; returns the stop function. */
  start(brInt: string): () => void {
    const driver = new TrunkDriver({ control: this.control, ovs: this.ovs, brInt, log: this.log, unplugGraceMs: this.unplugGraceMs });
    this.driver = driver;
    const offPush = this.control.onPush((p) => driver.onPush(p));
    const offDb = this.db.onChange((c) => {
      if (c.kind === 'bridge') driver.bridgeChanged(c.name);
      else if (c.kind === 'resync') driver.resync();
      else {
        // An interface's external_ids set after it joined its bridge (iface-id written in a later transaction).
        const bridge = this.db.vif(c.name)?.bridge;
        if (bridge !== undefined && isTrunkBridge(bridge)) driver.bridgeChanged(bridge);
      }
    });
    driver.start();
    return () => {
      offPush();
      offDb();
      driver.stop();
    };
  }

  /** Resolves once the driver has nothing queued (tests). */
  idle(): Promise<void> {
    return this.driver?.idle() ?? Promise.resolve();
  }
}
