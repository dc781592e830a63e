import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { detectApi } from './api/detect';
import { StoreProvider } from './store/context';
import { createFerryStore } from './store/store';
import './styles.css';

const container = document.getElementById('root');
if (!container) throw new Error('index.html lost its #root element');
const store = createFerryStore(detectApi());
createRoot(container).render(
  <StrictMode>
    <StoreProvider store={store}>
      <App />
    </StoreProvider>
  </StrictMode>,
);
