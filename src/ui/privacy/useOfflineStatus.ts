import { useEffect, useState } from 'react';

export type OfflineStatus = 'development' | 'unsupported' | 'preparing' | 'ready';

function current(): OfflineStatus {
  if (import.meta.env.DEV) return 'development';
  // Service workers exist only in secure contexts (https or localhost).
  if (!('serviceWorker' in navigator)) return 'unsupported';
  return navigator.serviceWorker.controller ? 'ready' : 'preparing';
}

/**
 * Whether the service worker controls this page, i.e. the app's files are stored and it opens offline.
 * registerSW.js (vite-plugin-pwa) registers it on load; on the first visit it takes control once its
 * precache is complete (clientsClaim).
 */
export function useOfflineStatus(): OfflineStatus {
  const [status, setStatus] = useState<OfflineStatus>(current);
  useEffect(() => {
    if (status !== 'preparing') return;
    const update = () => setStatus(current());
    navigator.serviceWorker.addEventListener('controllerchange', update);
    // Control may have been taken between the first render and this effect.
    update();
    return () => navigator.serviceWorker.removeEventListener('controllerchange', update);
  }, [status]);
  return status;
}
