import { render } from 'preact';
import { configureApi } from './api/client';
import { App } from './app';
import './styles.css';

const root = document.getElementById('app');
if (root) {
  void configureApi().then(() => render(<App />, root));
}
