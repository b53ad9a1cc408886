import { api } from './api/client';
import { showStartupError, startApp } from './app/app';

const root = document.getElementById('app');
if (root === null) throw new Error('index.html has no #app element');

// `vite --mode mock` / `vite build --mode mock` answer every command in the page itself. In
// any other mode the condition is the constant false and the mock is not in the bundle.
if (import.meta.env.MODE === 'mock') {
  const { installMockBackend } = await import('./api/mock/backend');
  installMockBackend();
}

startApp(root, api).catch((reason: unknown) => showStartupError(root, reason));
