import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import './styles.css';

// The dashboard lives under /app/…; the bare address opens the overview.
if (!window.location.pathname.startsWith('/app/')) window.history.replaceState(null, '', '/app/overview');

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
