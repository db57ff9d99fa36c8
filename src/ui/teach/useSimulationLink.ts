import { useEffect, useRef, useState } from 'react';
import {
  DEFAULT_SIM_SETTINGS,
  parseSimFragment,
  SIM_FRAGMENT_PREFIX,
  type SimSettings,
} from '../../core/simulate/settings';

/**
 * A `#sim=` address generates its screen at once (on opening the page and when the fragment changes);
 * one that cannot be read reports why. Returns the settings the panel shows and a key that changes with
 * every link opened, so the panel starts again from them.
 */
export function useSimulationLink(
  simulate: (settings: SimSettings) => void,
  reportLinkError: (message: string) => void,
): { settings: SimSettings; key: number } {
  const [link, setLink] = useState<{ settings: SimSettings; key: number }>({
    settings: DEFAULT_SIM_SETTINGS,
    key: 0,
  });
  // The panel writes its own fragment when it generates; that one must not generate a second time.
  const lastHandled = useRef<string | null>(null);
  useEffect(() => {
    const open = () => {
      const hash = window.location.hash;
      if (!hash.startsWith(SIM_FRAGMENT_PREFIX) || hash === lastHandled.current) return;
      lastHandled.current = hash;
      const parsed = parseSimFragment(hash);
      if (!parsed.ok) {
        reportLinkError(parsed.reason);
        return;
      }
      setLink((previous) => ({ settings: parsed.data, key: previous.key + 1 }));
      simulate(parsed.data);
    };
    open();
    window.addEventListener('hashchange', open);
    return () => window.removeEventListener('hashchange', open);
  }, [simulate, reportLinkError]);
  return link;
}
