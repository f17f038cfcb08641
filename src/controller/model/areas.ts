import type { AreaDefinition } from './types.js';

/**
 * Default area catalogue. Mainland China and everything else are billed and
 * routed as separate areas, hence the two; Hong Kong counts as international
 * because traffic to it crosses the mainland border. Operators pass their own
 * catalogue to the model when this split does not fit.
 */
export const DEFAULT_AREAS: readonly AreaDefinition[] = [
  {
    name: 'mainland',
    regions: [
      'cn-hangzhou',
      'cn-shanghai',
      'cn-beijing',
      'cn-shenzhen',
      'cn-qingdao',
      'cn-zhangjiakou',
      'cn-huhehaote',
      'cn-wulanchabu',
      'cn-chengdu',
      'cn-guangzhou',
      'cn-heyuan',
      'cn-nanjing',
      'cn-fuzhou',
    ],
  },
  {
    name: 'international',
    regions: [
      'cn-hongkong',
      'ap-southeast-1',
      'ap-southeast-3',
      'ap-southeast-5',
      'ap-southeast-6',
      'ap-southeast-7',
      'ap-northeast-1',
      'ap-northeast-2',
      'ap-south-1',
      'eu-central-1',
      'eu-west-1',
      'us-west-1',
      'us-east-1',
      'me-east-1',
      'me-central-1',
    ],
  },
];
