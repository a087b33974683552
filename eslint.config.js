import js from '@eslint/js'
import tseslint from 'typescript-eslint'
import jestPlugin from 'eslint-plugin-jest'
import prettier from 'eslint-config-prettier'

export default tseslint.config(
  { ignores: ['dist/', 'actions/*/dist/', 'node_modules/', '.venv-emulator/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      // The core stays runner-agnostic: only the thin adapters talk to the runner.
      'no-restricted-imports': 'off'
    }
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/actions/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: '@actions/core', message: 'Only src/actions/* may talk to the runner.' }]
        }
      ]
    }
  },
  {
    // Small functions that read at a glance: the reshape's promise, kept by the linter.
    files: ['src/**/*.ts'],
    rules: {
      'max-lines-per-function': ['error', { max: 80, skipBlankLines: true, skipComments: true }]
    }
  },
  { files: ['test/**/*.ts'], ...jestPlugin.configs['flat/recommended'] },
  prettier
)
